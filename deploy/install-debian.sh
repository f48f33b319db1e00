#!/bin/sh
# Takes a fresh Debian 12 machine to casegate over HTTPS behind Caddy, with a
# daily backup and DKIM-signed mail: the ten commands of docs/deployment.md,
# which the test of this folder checks are the same. Run it as root from a
# copy of the repository with the casegate binary beside it (build it with
# `CGO_ENABLED=0 go build -trimpath -o casegate ./cmd/casegate`):
#
#   DOMAIN=status.example.gov ACME_EMAIL=ops@example.gov \
#   MAIL_FROM='Case Status <no-reply@example.gov>' MAIL_DOMAIN=example.gov \
#   SMTP_URL='smtp://casegate:PASSWORD@smtp.example.gov:587?tls=starttls' \
#   sh deploy/install-debian.sh
#
# For CI, ROOT=/some/folder writes every file under that folder instead of
# /, and DRY_RUN=1 makes apt-get and systemctl write what they would do to
# $ROOT/dry-run.log instead of doing it.
set -eu
: "${DOMAIN:?name people use, e.g. status.example.gov}" "${ACME_EMAIL:?address for the certificate authority}"
: "${MAIL_FROM:?From address of email}" "${MAIL_DOMAIN:?domain that signs mail (DKIM)}" "${SMTP_URL:?mail relay URL}"
ROOT=${ROOT:-}
if [ -n "${DRY_RUN:-}" ]; then
	mkdir -p "$ROOT/dry-run" "$ROOT/etc/caddy"
	for c in apt-get systemctl; do
		printf '#!/bin/sh\necho "%s $*" >>"%s/dry-run.log"\n' "$c" "$ROOT" >"$ROOT/dry-run/$c"
		chmod 0755 "$ROOT/dry-run/$c"
	done
	PATH=$ROOT/dry-run:$PATH
fi

# --- the commands (docs/deployment.md shows them without ${ROOT}) ---
apt-get install -y caddy openssl
install -D -m 0755 casegate ${ROOT}/usr/local/bin/casegate
install -D -m 0644 -t ${ROOT}/etc/systemd/system deploy/casegate.service deploy/casegate-backup.service deploy/casegate-backup.timer
install -d -m 0700 ${ROOT}/etc/casegate/credentials
printf 'CASEGATE_PUBLIC_URL=https://%s\nCASEGATE_MAIL_FROM=%s\nCASEGATE_DKIM_DOMAIN=%s\nCASEGATE_DKIM_SELECTOR=casegate\n' "$DOMAIN" "$MAIL_FROM" "$MAIL_DOMAIN" >${ROOT}/etc/casegate/casegate.env
(umask 077 && printf 'k1 %s\n' "$(head -c 32 /dev/urandom | basenc --base64url -w0)" >${ROOT}/etc/casegate/credentials/secret.key && printf '%s\n' "$SMTP_URL" >${ROOT}/etc/casegate/credentials/smtp_url)
(umask 077 && openssl genpkey -quiet -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out ${ROOT}/etc/casegate/credentials/dkim.key)
printf 'publish in DNS: casegate._domainkey.%s TXT "v=DKIM1; k=rsa; p=%s"\n' "$MAIL_DOMAIN" "$(openssl pkey -in ${ROOT}/etc/casegate/credentials/dkim.key -pubout -outform DER | base64 -w0)"
sed -e "s/status.example.gov/$DOMAIN/g" -e "s/ops@example.gov/$ACME_EMAIL/g" deploy/Caddyfile >${ROOT}/etc/caddy/Caddyfile
systemctl daemon-reload && systemctl enable --now casegate.service casegate-backup.timer && systemctl reload caddy.service
