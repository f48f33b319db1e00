package identity

import "testing"

func BenchmarkTokens(b *testing.B) {
	for b.Loop() {
		Tokens("María José  García-López O’Brien Jr.")
	}
}

func BenchmarkNameMatches(b *testing.B) {
	b.Run("match", func(b *testing.B) {
		for b.Loop() {
			NameMatches("Maria", "Garcia", "María José", "García López")
		}
	})
	b.Run("no match", func(b *testing.B) {
		for b.Loop() {
			NameMatches("Mario", "Garcia", "María José", "García López")
		}
	})
}

func BenchmarkCountry(b *testing.B) {
	for _, in := range []string{"MX", "Estados Unidos", "Korea, Republic of"} {
		b.Run(in, func(b *testing.B) {
			for b.Loop() {
				if _, err := Country(in); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
