package synth

import (
	"strings"
	"unicode"

	"golang.org/x/text/unicode/norm"
)

// A culture is a pool of names that belong together, with the countries
// where people carrying them are born and the language they prefer.
type culture struct {
	name      string
	weight    int      // share among people born abroad
	countries []string // alpha-2, repeated to weight them
	male      []string
	female    []string
	middle    []string // extra given names; "M|F" gives male and female forms
	family    []string // "male/female" where the form depends on sex
	// cyrillicMale, cyrillicFemale and cyrillicFamily are used instead of the
	// Latin lists with probability cyrillicShare.
	cyrillicMale, cyrillicFemale, cyrillicFamily []string
	cyrillicShare                                float64

	middleShare    float64 // chance of an extra given name
	twoFamilyShare float64 // chance of two family names ("García López")
	spanishShare   float64 // chance that the person prefers Spanish
}

var latin = &culture{
	name:   "latin",
	weight: 60,
	countries: rep("MX", 50, "GT", 10, "SV", 10, "HN", 8, "CO", 6, "DO", 6, "CU", 5,
		"VE", 5, "PE", 3, "EC", 3, "NI", 2, "ES", 1),
	male: []string{"José", "Juan", "Luis", "Carlos", "Jesús", "Miguel", "Alejandro", "Fernando",
		"Jorge", "Ángel", "Raúl", "Andrés", "Sebastián", "Óscar", "Héctor", "Ramón", "Martín",
		"Joaquín", "Rubén", "Iván", "Julián", "Efraín", "Juan Carlos", "José Luis", "Francisco Javier"},
	female: []string{"María", "Guadalupe", "Ana", "Sofía", "Valentina", "Lucía", "Ximena", "Fernanda",
		"Mónica", "Verónica", "Beatriz", "Inés", "Rocío", "Dolores", "Maricela", "Yesenia", "Itzel",
		"Araceli", "Leticia", "María José", "Ana Lucía", "María de los Ángeles"},
	middle: []string{"Antonio|Isabel", "Manuel|Elena", "Alberto|Cristina", "Eduardo|Fernanda"},
	family: []string{"García", "López", "Martínez", "Rodríguez", "Hernández", "González", "Pérez",
		"Sánchez", "Ramírez", "Torres", "Flores", "Rivera", "Gómez", "Díaz", "Cruz", "Morales",
		"Reyes", "Gutiérrez", "Ortiz", "Chávez", "Ruiz", "Jiménez", "Mendoza", "Álvarez", "Castillo",
		"Vásquez", "Romero", "Herrera", "Medina", "Aguilar", "Núñez", "Peña", "Ibáñez", "Muñoz",
		"Del Valle", "De la Cruz", "Zúñiga", "Echeverría", "Quiñónez", "Villaseñor"},
	middleShare:    0.2,
	twoFamilyShare: 0.8,
	spanishShare:   0.93,
}

var cultures = []*culture{
	latin,
	{
		name: "chinese", weight: 8, countries: rep("CN", 8, "TW", 2, "HK", 1),
		male:   []string{"Wei", "Lei", "Jun", "Tao", "Xiaoming", "Haoran", "Zihao", "Yong", "Chih-Wei", "Kevin"},
		female: []string{"Fang", "Xiuying", "Jing", "Min", "Yan", "Hui", "Yuxuan", "Zihan", "Mei-Ling", "Shu-Fen"},
		family: []string{"Wang", "Li", "Zhang", "Liu", "Chen", "Yang", "Huang", "Zhao", "Wu", "Zhou",
			"Xu", "Sun", "Ma", "Zhu", "Hu", "Guo", "Lin", "Ouyang"},
	},
	{
		name: "vietnamese", weight: 5, countries: rep("VN", 1),
		male:        []string{"Minh", "Tuấn", "Dũng", "Quang", "Hùng", "Đức", "Khánh", "Long", "Phúc"},
		female:      []string{"Anh", "Hương", "Linh", "Thảo", "Phương", "Ngọc", "Trang", "Lan", "Hằng"},
		middle:      []string{"Văn|Thị", "Đức|Ngọc", "Minh|Thu", "Quốc|Kim"},
		family:      []string{"Nguyễn", "Trần", "Lê", "Phạm", "Hoàng", "Huỳnh", "Phan", "Vũ", "Võ", "Đặng", "Bùi", "Đỗ", "Hồ", "Ngô"},
		middleShare: 0.8,
	},
	{
		name: "indian", weight: 10, countries: rep("IN", 12, "NP", 1, "BD", 1),
		male:   []string{"Rahul", "Amit", "Vikram", "Arjun", "Sanjay", "Rajesh", "Suresh", "Karthik", "Venkata", "Srinivas", "Anil", "Harpreet"},
		female: []string{"Priya", "Ananya", "Deepika", "Lakshmi", "Sunita", "Kavya", "Pooja", "Neha", "Divya", "Meera", "Harpreet"},
		middle: []string{"Kumar|Kumari", "Lal|Devi", "Prasad|Rani", "Sai|Sai"},
		family: []string{"Patel", "Sharma", "Singh", "Kumar", "Reddy", "Gupta", "Iyer", "Nair", "Rao", "Shah",
			"Desai", "Chaudhary", "Mehta", "Banerjee", "D'Souza", "Fernandes", "Krishnamurthy", "Venkataraman", "Subramanian"},
		middleShare: 0.3,
	},
	{
		name: "filipino", weight: 7, countries: rep("PH", 1),
		male:   []string{"Jose", "Mark Anthony", "John Paul", "Rodrigo", "Ferdinand", "Jerome", "Jhon", "Ramil", "Rommel"},
		female: []string{"Maria Cristina", "Ma. Teresa", "Rowena", "Jocelyn", "Marites", "Analyn", "Lovely", "Mary Grace"},
		middle: []string{"Dela Cruz|Dela Cruz", "Santos|Santos", "Bautista|Bautista", "Villanueva|Villanueva"},
		family: []string{"Santos", "Reyes", "Cruz", "Bautista", "Ocampo", "Garcia", "Mendoza", "Dela Cruz",
			"Del Rosario", "Castillo", "Villanueva", "Aquino", "Manalo", "Dizon", "Pangilinan", "Magbanua"},
		middleShare: 0.6,
	},
	{
		name: "nigerian", weight: 4, countries: rep("NG", 1),
		male:   []string{"Chinedu", "Oluwaseun", "Adebayo", "Emeka", "Oluwadamilare", "Abubakar", "Tunde", "Obinna", "Chukwuemeka"},
		female: []string{"Ngozi", "Chiamaka", "Folake", "Ifeoma", "Aisha", "Yetunde", "Funmilayo", "Adaeze"},
		middle: []string{"Emmanuel|Grace", "Oluwafemi|Blessing", "Ikechukwu|Chioma"},
		family: []string{"Okafor", "Adeyemi", "Okonkwo", "Balogun", "Eze", "Nwosu", "Ogunleye", "Bello",
			"Olawale", "Adebayo-Johnson", "Okoro", "Ibrahim", "Ojo"},
		middleShare: 0.5,
	},
	{
		name: "arabic", weight: 5, countries: rep("EG", 3, "SY", 2, "IQ", 2, "JO", 1, "LB", 1, "YE", 1, "MA", 1, "SD", 1),
		male:   []string{"Mohammed", "Ahmad", "Omar", "Ali", "Hassan", "Khaled", "Youssef", "Abdul Rahman", "Abdullah", "Tariq"},
		female: []string{"Fatima", "Aisha", "Layla", "Nour", "Mariam", "Zainab", "Rania", "Huda"},
		family: []string{"Al-Masri", "Haddad", "Khalil", "Al-Sayed", "Nasser", "Hussein", "Abdel-Malek",
			"El-Amin", "Saleh", "Mansour", "Al-Khatib", "Darwish", "Abu-Ghazaleh"},
	},
	{
		name: "russian", weight: 3, countries: rep("RU", 6, "BY", 1, "KZ", 1),
		male:   []string{"Dmitry", "Alexey", "Sergey", "Andrei", "Mikhail", "Ivan"},
		female: []string{"Irina", "Natalia", "Olga", "Ekaterina", "Yulia", "Anastasia", "Tatiana"},
		family: []string{"Ivanov/Ivanova", "Smirnov/Smirnova", "Kuznetsov/Kuznetsova", "Popov/Popova",
			"Sokolov/Sokolova", "Volkov/Volkova", "Fyodorov/Fyodorova"},
		cyrillicMale:   []string{"Дмитрий", "Алексей", "Сергей", "Андрей", "Михаил", "Иван"},
		cyrillicFemale: []string{"Ирина", "Наталья", "Ольга", "Екатерина", "Юлия", "Анастасия", "Татьяна"},
		cyrillicFamily: []string{"Иванов/Иванова", "Смирнов/Смирнова", "Кузнецов/Кузнецова", "Попов/Попова",
			"Соколов/Соколова", "Волков/Волкова", "Фёдоров/Фёдорова"},
		cyrillicShare: 0.5,
	},
	{
		name: "korean", weight: 3, countries: rep("KR", 1),
		male:   []string{"Min-jun", "Ji-hoon", "Hyun-woo", "Jae-won", "Young-ho", "Sung-min"},
		female: []string{"Seo-yeon", "Ji-woo", "Soo-jin", "Eun-ji", "Hye-jin", "Min-seo"},
		family: []string{"Kim", "Lee", "Park", "Choi", "Jung", "Kang", "Cho", "Yoon", "Jang", "Lim", "Han", "Shin"},
	},
	{
		name: "haitian", weight: 4, countries: rep("HT", 1),
		male:   []string{"Jean-Pierre", "Wilner", "Ricardo", "Frantz", "Jean-Rony", "Dieunel", "Mackenson", "Jean"},
		female: []string{"Marie-Claude", "Jocelyne", "Fabiola", "Guerline", "Widlyne", "Nadège", "Marie"},
		family: []string{"Joseph", "Pierre", "Jean-Baptiste", "Louis", "Charles", "Saint-Fleur", "Désir",
			"Étienne", "Dorvil", "Noël", "Augustin", "Célestin", "François", "Toussaint", "Saint-Louis"},
	},
	{
		name: "polish", weight: 2, countries: rep("PL", 1),
		male:   []string{"Łukasz", "Michał", "Paweł", "Krzysztof", "Wojciech", "Jędrzej", "Tomasz"},
		female: []string{"Agnieszka", "Małgorzata", "Katarzyna", "Zofia", "Grażyna", "Joanna"},
		family: []string{"Nowak", "Kowalski/Kowalska", "Wiśniewski/Wiśniewska", "Wójcik", "Kamiński/Kamińska",
			"Lewandowski/Lewandowska", "Zieliński/Zielińska", "Woźniak", "Dąbrowski/Dąbrowska", "Grzegorczyk"},
	},
	{
		name: "ukrainian", weight: 3, countries: rep("UA", 1),
		male:   []string{"Oleksandr", "Andriy", "Taras", "Bohdan", "Dmytro", "Yurii"},
		female: []string{"Oksana", "Nataliia", "Yuliia", "Iryna", "Olena", "Halyna"},
		family: []string{"Shevchenko", "Boiko", "Kovalenko", "Bondarenko", "Tkachenko", "Kravchuk",
			"Melnyk", "Oliinyk", "Savchuk", "Marchenko"},
		cyrillicMale:   []string{"Олександр", "Андрій", "Тарас", "Богдан", "Дмитро", "Юрій"},
		cyrillicFemale: []string{"Оксана", "Наталія", "Юлія", "Ірина", "Олена", "Галина"},
		cyrillicFamily: []string{"Шевченко", "Бойко", "Коваленко", "Бондаренко", "Ткаченко", "Кравчук",
			"Мельник", "Олійник", "Савчук", "Марченко"},
		cyrillicShare: 0.4,
	},
	{
		name: "brazilian", weight: 4, countries: rep("BR", 1),
		male:   []string{"João", "José", "Antônio", "Francisco", "Gabriel", "Lucas", "Matheus", "João Pedro"},
		female: []string{"Ana", "Maria", "Juliana", "Fernanda", "Letícia", "Luíza", "Maria Eduarda"},
		family: []string{"da Silva", "dos Santos", "Oliveira", "Souza", "Rodrigues", "Ferreira", "Alves",
			"Pereira", "Lima", "Gomes", "Conceição", "Araújo", "Magalhães", "Assunção"},
		twoFamilyShare: 0.5,
	},
}

// american names are for people born in the United States: petitioners and
// representatives.
var american = &culture{
	name: "american", countries: rep("US", 1),
	male:   []string{"James", "Michael", "David", "Robert", "Christopher", "Daniel", "Matthew", "Tyler", "John"},
	female: []string{"Sarah", "Jennifer", "Emily", "Jessica", "Ashley", "Mary-Kate", "Elizabeth", "Megan"},
	middle: []string{"Lee|Anne", "Ray|Lynn", "Allen|Marie"},
	family: []string{"Smith", "Johnson", "Williams", "Brown", "Jones", "Miller", "Davis", "Wilson", "Anderson",
		"O'Connor", "O'Brien", "McAllister", "MacDonald", "Thompson-Reyes", "St. John", "Van der Berg", "D'Angelo"},
	middleShare: 0.3,
}

// cultureTable holds each culture of people born abroad weight times, to pick by weight.
var cultureTable []*culture

// folded maps every name part in the tables to its asciiFold, computed once.
var folded = map[string]string{}

func init() {
	for _, c := range cultures {
		for range c.weight {
			cultureTable = append(cultureTable, c)
		}
	}
	for _, c := range append([]*culture{american}, cultures...) {
		for _, list := range [][]string{c.male, c.female, c.middle, c.family, c.cyrillicMale, c.cyrillicFemale, c.cyrillicFamily} {
			for _, s := range list {
				for _, part := range strings.FieldsFunc(s, func(r rune) bool { return r == '/' || r == '|' }) {
					folded[part] = asciiFold(part)
				}
			}
		}
	}
}

// fold returns the ASCII form of a name part from the tables.
func fold(s string) string {
	if f, ok := folded[s]; ok {
		return f
	}
	return asciiFold(s)
}

// rep expands pairs (value, count) into a slice holding each value count times.
func rep(pairs ...any) []string {
	var out []string
	if len(pairs) == 1 {
		return []string{pairs[0].(string)}
	}
	for i := 0; i+1 < len(pairs); i += 2 {
		for range pairs[i+1].(int) {
			out = append(out, pairs[i].(string))
		}
	}
	return out
}

// gendered returns the male or female form of "male/female" or "male|female".
func gendered(s string, female bool) string {
	i := strings.IndexAny(s, "/|")
	if i < 0 {
		return s
	}
	if female {
		return s[i+1:]
	}
	return s[:i]
}

// asciiFold turns a name into lower-case ASCII letters and digits for an
// email local part: accents dropped, Cyrillic transliterated, the rest removed.
func asciiFold(s string) string {
	var b strings.Builder
	for _, r := range norm.NFKD.String(s) {
		switch {
		case unicode.Is(unicode.Mn, r):
		case r < 128:
			if unicode.IsLetter(r) || unicode.IsDigit(r) {
				b.WriteRune(unicode.ToLower(r))
			}
		default:
			b.WriteString(translit[unicode.ToLower(r)])
		}
	}
	return b.String()
}

// translit holds the letters NFKD does not reduce to ASCII.
var translit = func() map[rune]string {
	m := map[rune]string{'đ': "d", 'ł': "l", 'ß': "ss", 'ø': "o", 'æ': "ae", 'œ': "oe"}
	cyr := "а:a б:b в:v г:g ґ:g д:d е:e ё:yo є:ye ж:zh з:z и:i і:i ї:yi й:y к:k л:l м:m н:n о:o п:p р:r с:s т:t у:u ф:f х:kh ц:ts ч:ch ш:sh щ:shch ъ: ы:y ь: э:e ю:yu я:ya"
	for _, pair := range strings.Fields(cyr) {
		r, v, _ := strings.Cut(pair, ":")
		m[[]rune(r)[0]] = v
	}
	return m
}()
