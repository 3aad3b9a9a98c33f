"""Contact persons: names, phones, e-mails and postal addresses in local styles.

Everything here is made up but shaped like the real thing (Korean mobiles +82-10-xxxx-xxxx,
Hangul and romanised Korean names, foreign names by country), so that the pseudonymisation
and scrubbing in ingestion meet realistic personal data.
"""

from __future__ import annotations

import unicodedata

import numpy as np

from exportintel.reference.countries import PARTNER_BY_CODE, country_name

_KOREAN_SURNAMES = (
    ("김", "Kim"),
    ("이", "Lee"),
    ("박", "Park"),
    ("최", "Choi"),
    ("정", "Jung"),
    ("강", "Kang"),
    ("조", "Cho"),
    ("윤", "Yoon"),
    ("장", "Jang"),
    ("임", "Lim"),
    ("한", "Han"),
    ("오", "Oh"),
    ("서", "Seo"),
    ("신", "Shin"),
    ("권", "Kwon"),
    ("황", "Hwang"),
    ("안", "Ahn"),
    ("송", "Song"),
    ("류", "Ryu"),
    ("홍", "Hong"),
)
# Rough frequency of the surnames above (Kim, Lee and Park cover almost half of Koreans).
_KOREAN_SURNAME_WEIGHTS = (
    21,
    15,
    8,
    5,
    5,
    2.5,
    2.2,
    2.1,
    2,
    2,
    1.5,
    1.5,
    1.5,
    1.5,
    1.3,
    1.3,
    1.3,
    1.3,
    1.2,
    1.1,
)
_KOREAN_GIVEN = (
    ("민준", "Min-jun"),
    ("서연", "Seo-yeon"),
    ("지훈", "Ji-hoon"),
    ("서준", "Seo-jun"),
    ("하은", "Ha-eun"),
    ("도윤", "Do-yun"),
    ("지우", "Ji-woo"),
    ("예준", "Ye-jun"),
    ("수빈", "Su-bin"),
    ("현우", "Hyun-woo"),
    ("지민", "Ji-min"),
    ("유진", "Yu-jin"),
    ("민서", "Min-seo"),
    ("준호", "Jun-ho"),
    ("은지", "Eun-ji"),
    ("성민", "Sung-min"),
    ("동현", "Dong-hyun"),
    ("혜진", "Hye-jin"),
    ("영호", "Young-ho"),
    ("미경", "Mi-kyung"),
)

# Foreign naming styles: (given names, family names, family name first).
_STYLES: dict[str, tuple[tuple[str, ...], tuple[str, ...], bool]] = {
    "en": (("James", "Mary", "John", "Patricia", "Robert", "Jennifer", "Michael", "Linda", "David",
            "Sarah", "Emily", "Daniel"),
           ("Smith", "Johnson", "Williams", "Brown", "Jones", "Miller", "Davis", "Wilson",
            "Taylor", "Clark", "Walker", "Young"), False),
    "zh": (("Wei", "Na", "Jing", "Lei", "Yang", "Min", "Hui", "Jun", "Mei", "Tao"),
           ("Wang", "Li", "Zhang", "Liu", "Chen", "Huang", "Lin", "Zhao", "Wu", "Zhou"), True),
    "ja": (("Yuki", "Hiroshi", "Aiko", "Kenji", "Mai", "Takeshi", "Naoko", "Daisuke", "Haruka"),
           ("Sato", "Suzuki", "Takahashi", "Tanaka", "Watanabe", "Ito", "Yamamoto", "Nakamura"),
           True),
    "vi": (("Van An", "Thi Mai", "Van Hung", "Thi Lan", "Minh Tuan", "Thi Thu", "Quoc Bao"),
           ("Nguyen", "Tran", "Le", "Pham", "Hoang", "Vu", "Dang"), True),
    "es": (("María", "José", "Ana", "Carlos", "Lucía", "Javier", "Sofía", "Miguel"),
           ("García", "Martínez", "López", "Hernández", "González", "Rodríguez", "Pérez"), False),
    "pt": (("João", "Ana", "Pedro", "Mariana", "Lucas", "Beatriz"),
           ("Silva", "Santos", "Souza", "Oliveira", "Costa", "Ferreira"), False),
    "de": (("Anna", "Thomas", "Julia", "Lukas", "Stefan", "Katrin", "Felix"),
           ("Müller", "Schmidt", "Schneider", "Fischer", "Weber", "Becker", "Wagner"), False),
    "fr": (("Marie", "Pierre", "Camille", "Julien", "Claire", "Nicolas"),
           ("Dubois", "Martin", "Bernard", "Moreau", "Laurent", "Lefebvre"), False),
    "it": (("Giulia", "Marco", "Francesca", "Luca", "Chiara", "Alessandro"),
           ("Rossi", "Bianchi", "Romano", "Colombo", "Ricci", "Marino"), False),
    "nl": (("Jan", "Sanne", "Pieter", "Lotte", "Thijs", "Emma"),
           ("de Vries", "Jansen", "Bakker", "Visser", "Peeters", "Janssens"), False),
    "pl": (("Piotr", "Katarzyna", "Tomasz", "Agnieszka", "Paweł"),
           ("Kowalski", "Nowak", "Wiśniewski", "Wójcik", "Kamiński"), False),
    "cs": (("Tomáš", "Jana", "Petr", "Lucie", "Martin"),
           ("Novák", "Svoboda", "Dvořák", "Černý", "Horváth"), False),
    "hu": (("Zsófia", "László", "Eszter", "Gábor", "Anna"),
           ("Nagy", "Kovács", "Tóth", "Szabó", "Horváth"), True),
    "ro": (("Andrei", "Elena", "Mihai", "Ioana"), ("Popescu", "Ionescu", "Popa", "Dumitru"), False),
    "el": (("Georgios", "Maria", "Nikos", "Eleni"),
           ("Papadopoulos", "Papadaki", "Georgiou", "Nikolaou"), False),
    "nordic": (("Erik", "Anna", "Lars", "Ingrid", "Mikko", "Sofia"),
               ("Andersson", "Johansson", "Hansen", "Nielsen", "Virtanen", "Larsen"), False),
    "ru": (("Ivan", "Olga", "Dmitry", "Anna", "Sergey", "Elena"),
           ("Petrov", "Ivanova", "Smirnov", "Kuznetsova", "Popov", "Sokolova"), False),
    "uk": (("Oleksandr", "Olena", "Andriy", "Iryna"),
           ("Shevchenko", "Kovalenko", "Bondarenko", "Tkachenko"), False),
    "tr": (("Mehmet", "Ayşe", "Mustafa", "Fatma", "Emre", "Zeynep"),
           ("Yılmaz", "Kaya", "Demir", "Şahin", "Çelik", "Öztürk"), False),
    "ar": (("Ahmed", "Fatima", "Omar", "Layla", "Khalid", "Noura"),
           ("Al-Farsi", "Hassan", "Khalil", "Al-Mansouri", "Saleh", "Haddad"), False),
    "he": (("Noa", "David", "Yael", "Itai"), ("Cohen", "Levi", "Mizrahi", "Peretz"), False),
    "in": (("Priya", "Rahul", "Amit", "Ananya", "Vikram", "Sneha"),
           ("Sharma", "Gupta", "Patel", "Singh", "Kumar", "Rao"), False),
    "id": (("Budi", "Siti", "Agus", "Dewi", "Rizky"),
           ("Santoso", "Rahayu", "Wijaya", "Hidayat", "Saputra"), False),
    "ms": (("Muhammad Hafiz", "Nur Aisyah", "Ahmad Faiz", "Siti Nurhaliza"),
           ("bin Ismail", "binti Hassan", "bin Abdullah", "binti Omar"), False),
    "ph": (("Jose", "Maria", "Mark", "Kristine", "Paolo"),
           ("Reyes", "Santos", "Cruz", "Bautista", "Garcia"), False),
    "th": (("Somchai", "Niran", "Malee", "Kanya", "Anan"),
           ("Sukjai", "Wongsa", "Srisuk", "Chaiyaporn", "Rattanakul"), False),
    "km": (("Dara", "Sophea", "Vanna", "Bopha"), ("Sok", "Chan", "Kim", "Heng"), True),
    "mm": (("Aung Kyaw", "Thida Win", "Min Thu", "Su Myat"), ("",), False),
    "mn": (("Bat-Erdene", "Oyunchimeg", "Ganbold", "Sarangerel"),
           ("Ganbaatar", "Dorj", "Bold", "Tsend"), False),
    "ng": (("Chinedu", "Ngozi", "Emeka", "Aisha", "Tunde"),
           ("Okafor", "Adeyemi", "Okonkwo", "Bello", "Eze"), False),
    "ke": (("Wanjiru", "Otieno", "Achieng", "Kamau"), ("Kamau", "Odhiambo", "Mwangi", "Njoroge"),
           False),
    "lk": (("Nimal", "Kumari", "Sunil", "Dilani"), ("Perera", "Fernando", "Silva", "Jayasinghe"),
           False),
}  # fmt: skip

_KOREAN_AREA_CODES = {
    "Seoul": "02", "Busan": "051", "Daegu": "053", "Incheon": "032", "Gwangju": "062",
    "Daejeon": "042", "Ulsan": "052", "Sejong": "044", "Gyeonggi": "031", "Gangwon": "033",
    "Chungbuk": "043", "Chungnam": "041", "Jeonbuk": "063", "Jeonnam": "061",
    "Gyeongbuk": "054", "Gyeongnam": "055", "Jeju": "064",
}  # fmt: skip
_KOREAN_DISTRICTS = {
    "Seoul": ("Gangnam-gu", "Seocho-gu", "Guro-gu", "Geumcheon-gu", "Mapo-gu", "Songpa-gu"),
    "Busan": ("Haeundae-gu", "Saha-gu", "Gangseo-gu"),
    "Daegu": ("Dalseo-gu", "Buk-gu"),
    "Incheon": ("Namdong-gu", "Yeonsu-gu", "Seo-gu"),
    "Gwangju": ("Gwangsan-gu", "Buk-gu"),
    "Daejeon": ("Yuseong-gu", "Daedeok-gu"),
    "Ulsan": ("Nam-gu", "Ulju-gun"),
    "Sejong": ("Jochiwon-eup", "Yeongi-myeon"),
    "Gyeonggi": ("Suwon-si", "Seongnam-si", "Ansan-si", "Hwaseong-si", "Bucheon-si",
                 "Goyang-si", "Yongin-si", "Siheung-si"),
    "Gangwon": ("Chuncheon-si", "Wonju-si", "Gangneung-si"),
    "Chungbuk": ("Cheongju-si", "Chungju-si", "Eumseong-gun"),
    "Chungnam": ("Cheonan-si", "Asan-si", "Dangjin-si"),
    "Jeonbuk": ("Jeonju-si", "Iksan-si", "Gunsan-si"),
    "Jeonnam": ("Yeosu-si", "Suncheon-si", "Mokpo-si"),
    "Gyeongbuk": ("Pohang-si", "Gumi-si", "Gyeongsan-si"),
    "Gyeongnam": ("Changwon-si", "Gimhae-si", "Yangsan-si", "Jinju-si"),
    "Jeju": ("Jeju-si", "Seogwipo-si"),
}  # fmt: skip
_KOREAN_PROVINCE_NAMES = {
    "Gyeonggi": "Gyeonggi-do", "Gangwon": "Gangwon-do", "Chungbuk": "Chungcheongbuk-do",
    "Chungnam": "Chungcheongnam-do", "Jeonbuk": "Jeonbuk-do", "Jeonnam": "Jeollanam-do",
    "Gyeongbuk": "Gyeongsangbuk-do", "Gyeongnam": "Gyeongsangnam-do", "Jeju": "Jeju-do",
}  # fmt: skip
_KOREAN_ROADS = ("Jungang-ro", "Sandan-ro", "Gongdan-ro", "Digital-ro", "Hwanggeum-ro",
                 "Saemaeul-ro", "Cheongsa-ro", "Dongbu-ro", "Seobu-ro", "Haean-ro",
                 "Gwanggyo-ro", "Techno-ro")  # fmt: skip
_STREETS = (
    "Harbour Road",
    "Market Street",
    "Industrial Avenue",
    "Commerce Road",
    "Station Road",
    "Park Avenue",
    "Trade Centre Road",
    "Riverside Drive",
)
_KOREAN_MAIL = ("naver.com", "gmail.com", "daum.net", "hanmail.net", "kakao.com")
_FOREIGN_MAIL = ("gmail.com", "outlook.com", "yahoo.com", "hotmail.com")
_LOCAL_MAIL = {"CHN": ("qq.com", "163.com"), "JPN": ("yahoo.co.jp",), "RUS": ("mail.ru",)}


def ascii_slug(text: str) -> str:
    """Lower-case ASCII letters and digits only: e-mail local parts and domains."""
    folded = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    return "".join(ch for ch in folded.lower() if ch.isalnum())


def korean_contacts(
    rng: np.random.Generator, regions: list[str], domains: list[str]
) -> dict[str, list[str]]:
    """Korean contact persons of exporters: names, phones, e-mails, head-office addresses."""
    n = len(regions)
    weights = np.array(_KOREAN_SURNAME_WEIGHTS) / sum(_KOREAN_SURNAME_WEIGHTS)
    surname = rng.choice(len(_KOREAN_SURNAMES), size=n, p=weights).tolist()
    given = rng.integers(0, len(_KOREAN_GIVEN), n).tolist()
    hangul = (rng.random(n) < 0.5).tolist()
    digits = rng.integers(0, 10_000, size=(n, 4)).tolist()
    phone_form = rng.integers(0, 5, n).tolist()
    mail_form = rng.integers(0, 4, n).tolist()
    free_mail = rng.integers(0, len(_KOREAN_MAIL), n).tolist()
    district = rng.integers(0, 1000, n).tolist()
    road = rng.integers(0, len(_KOREAN_ROADS), n).tolist()
    postcode = rng.integers(10_000, 64_000, n).tolist()
    names, phones, emails, addresses = [], [], [], []
    for i in range(n):
        (family_ko, family_en), (given_ko, given_en) = (
            _KOREAN_SURNAMES[surname[i]],
            _KOREAN_GIVEN[given[i]],
        )
        names.append(f"{family_ko}{given_ko}" if hangul[i] else f"{family_en} {given_en}")
        a, b, c, d = digits[i]
        form = phone_form[i]
        if form <= 1:
            phones.append(f"010-{a:04d}-{b:04d}")
        elif form <= 3:
            phones.append(f"+82-10-{a:04d}-{b:04d}")
        else:
            area = _KOREAN_AREA_CODES[regions[i]]
            phones.append(f"{area}-{c % 900 + 100}-{d:04d}")
        first = ascii_slug(given_en)
        family = ascii_slug(family_en)
        local = (f"{first}.{family}", f"{first[0]}{family}{a % 100:02d}",
                 f"{family}{first}", f"{first}{d % 1000}")[mail_form[i]]  # fmt: skip
        domain = domains[i] if mail_form[i] < 2 else _KOREAN_MAIL[free_mail[i]]
        emails.append(f"{local}@{domain}")
        region = regions[i]
        districts = _KOREAN_DISTRICTS[region]
        province = _KOREAN_PROVINCE_NAMES.get(region, region)
        addresses.append(
            f"{b % 300 + 1}, {_KOREAN_ROADS[road[i]]}, {districts[district[i] % len(districts)]}, "
            f"{province} {postcode[i]:05d}, Republic of Korea"
        )
    return {"name": names, "phone": phones, "email": emails, "address": addresses}


def foreign_contacts(
    rng: np.random.Generator, countries: list[str], domains: list[str]
) -> dict[str, list[str]]:
    """Buyers' contact persons in their country's naming, phone and address style."""
    n = len(countries)
    picks = rng.integers(0, 1_000_000, size=(n, 8)).tolist()
    names, phones, emails, addresses = [], [], [], []
    for i in range(n):
        partner = PARTNER_BY_CODE[countries[i]]
        given_names, family_names, family_first = _STYLES[partner.name_style]
        g, f, area, number, form, street, city, free = picks[i]
        given = given_names[g % len(given_names)]
        family = family_names[f % len(family_names)]
        full = f"{family} {given}" if family_first else f"{given} {family}"
        names.append(full.strip())
        phones.append(f"+{partner.calling_code}-{area % 90 + 10}-{number % 10_000_000:07d}")
        first_slug, family_slug = ascii_slug(given), ascii_slug(family) or "info"
        local = (f"{first_slug}.{family_slug}", f"{first_slug[:1]}{family_slug}",
                 f"{first_slug}{number % 100}")[form % 3]  # fmt: skip
        free_mail = _LOCAL_MAIL.get(partner.code, _FOREIGN_MAIL)
        domain = domains[i] if form % 5 < 3 else free_mail[free % len(free_mail)]
        emails.append(f"{local}@{domain}")
        addresses.append(
            f"{number % 900 + 1} {_STREETS[street % len(_STREETS)]}, "
            f"{partner.cities[city % len(partner.cities)]}, {country_name(partner.code)}"
        )
    return {"name": names, "phone": phones, "email": emails, "address": addresses}


def random_phone(rng: np.random.Generator) -> str:
    """A phone number as people type it into free text (search box, notes)."""
    a, b = rng.integers(0, 10_000, 2).tolist()
    return (f"010-{a:04d}-{b:04d}", f"+82 10 {a:04d} {b:04d}", f"+1-213-555-{b:04d}",
            f"010{a:04d}{b:04d}")[int(rng.integers(0, 4))]  # fmt: skip


def random_email(rng: np.random.Generator) -> str:
    family = _KOREAN_SURNAMES[int(rng.integers(0, len(_KOREAN_SURNAMES)))][1].lower()
    given = ascii_slug(_KOREAN_GIVEN[int(rng.integers(0, len(_KOREAN_GIVEN)))][1])
    domain = _KOREAN_MAIL[int(rng.integers(0, len(_KOREAN_MAIL)))]
    return f"{given}.{family}@{domain}"
