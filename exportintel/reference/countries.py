"""Countries: ISO codes and names from pycountry, and Korea's main export partners.

The partner table is real-ish: shares of Korea's goods exports are rounded recent-year figures
(Korea International Trade Association statistics, about 2023), enough to weight where buyers
and export destinations are; they are not an official series.
"""

from __future__ import annotations

from functools import cache
from typing import NamedTuple

KOREA = "KOR"


class Partner(NamedTuple):
    code: str  # ISO 3166-1 alpha-3
    export_share_pct: float  # share of Korea's goods exports, percent
    currency: str  # local ISO 4217 currency
    calling_code: str  # international dialling prefix, without "+"
    name_style: str  # naming convention of contact persons (see generate.people)
    cities: tuple[str, ...]


PARTNERS: tuple[Partner, ...] = (
    Partner(
        "CHN",
        19.7,
        "CNY",
        "86",
        "zh",
        ("Shanghai", "Beijing", "Guangzhou", "Shenzhen", "Qingdao", "Tianjin", "Hangzhou"),
    ),
    Partner(
        "USA",
        18.3,
        "USD",
        "1",
        "en",
        ("New York", "Los Angeles", "Chicago", "Houston", "Atlanta", "Seattle", "Dallas"),
    ),
    Partner("VNM", 8.5, "VND", "84", "vi", ("Ho Chi Minh City", "Hanoi", "Da Nang", "Hai Phong")),
    Partner("JPN", 4.6, "JPY", "81", "ja", ("Tokyo", "Osaka", "Nagoya", "Fukuoka", "Yokohama")),
    Partner("TWN", 3.2, "TWD", "886", "zh", ("Taipei", "Kaohsiung", "Taichung")),
    Partner("HKG", 2.9, "HKD", "852", "zh", ("Hong Kong",)),
    Partner("SGP", 2.9, "SGD", "65", "zh", ("Singapore",)),
    Partner("AUS", 2.9, "AUD", "61", "en", ("Sydney", "Melbourne", "Brisbane", "Perth")),
    Partner("IND", 2.8, "INR", "91", "in", ("Mumbai", "New Delhi", "Chennai", "Bengaluru")),
    Partner("MEX", 1.8, "MXN", "52", "es", ("Mexico City", "Monterrey", "Guadalajara", "Tijuana")),
    Partner(
        "DEU",
        1.6,
        "EUR",
        "49",
        "de",
        ("Frankfurt am Main", "Hamburg", "Munich", "Berlin", "Düsseldorf"),
    ),
    Partner("PHL", 1.5, "PHP", "63", "ph", ("Manila", "Cebu City", "Davao City")),
    Partner("MYS", 1.5, "MYR", "60", "ms", ("Kuala Lumpur", "George Town", "Johor Bahru")),
    Partner("IDN", 1.4, "IDR", "62", "id", ("Jakarta", "Surabaya", "Bandung")),
    Partner("THA", 1.3, "THB", "66", "th", ("Bangkok", "Chiang Mai", "Chonburi")),
    Partner("POL", 1.3, "PLN", "48", "pl", ("Warsaw", "Wrocław", "Kraków")),
    Partner("TUR", 1.1, "TRY", "90", "tr", ("Istanbul", "Ankara", "Izmir")),
    Partner("NLD", 1.1, "EUR", "31", "nl", ("Amsterdam", "Rotterdam", "Eindhoven")),
    Partner("CAN", 1.0, "CAD", "1", "en", ("Toronto", "Vancouver", "Montreal")),
    Partner("RUS", 1.0, "RUB", "7", "ru", ("Moscow", "Saint Petersburg", "Vladivostok")),
    Partner("GBR", 0.9, "GBP", "44", "en", ("London", "Manchester", "Birmingham")),
    Partner("HUN", 0.9, "HUF", "36", "hu", ("Budapest", "Debrecen")),
    Partner("BRA", 0.8, "BRL", "55", "pt", ("São Paulo", "Rio de Janeiro", "Manaus")),
    Partner("SAU", 0.7, "SAR", "966", "ar", ("Riyadh", "Jeddah", "Dammam")),
    Partner("ARE", 0.6, "AED", "971", "ar", ("Dubai", "Abu Dhabi", "Sharjah")),
    Partner("FRA", 0.6, "EUR", "33", "fr", ("Paris", "Lyon", "Marseille")),
    Partner("ITA", 0.5, "EUR", "39", "it", ("Milan", "Rome", "Turin")),
    Partner("ESP", 0.5, "EUR", "34", "es", ("Madrid", "Barcelona", "Valencia")),
    Partner("CZE", 0.4, "CZK", "420", "cs", ("Prague", "Brno")),
    Partner("SVK", 0.4, "EUR", "421", "cs", ("Bratislava", "Žilina")),
    Partner("BEL", 0.4, "EUR", "32", "nl", ("Brussels", "Antwerp")),
    Partner("KAZ", 0.3, "KZT", "7", "ru", ("Almaty", "Astana")),
    Partner("CHL", 0.3, "CLP", "56", "es", ("Santiago", "Valparaíso")),
    Partner("ISR", 0.3, "ILS", "972", "he", ("Tel Aviv", "Haifa")),
    Partner("EGY", 0.3, "EGP", "20", "ar", ("Cairo", "Alexandria")),
    Partner("UZB", 0.2, "UZS", "998", "ru", ("Tashkent", "Samarkand")),
    Partner("BGD", 0.2, "BDT", "880", "in", ("Dhaka", "Chittagong")),
    Partner("PER", 0.2, "PEN", "51", "es", ("Lima", "Arequipa")),
    Partner("COL", 0.2, "COP", "57", "es", ("Bogotá", "Medellín")),
    Partner("NZL", 0.2, "NZD", "64", "en", ("Auckland", "Wellington")),
    Partner("SWE", 0.2, "SEK", "46", "nordic", ("Stockholm", "Gothenburg")),
    Partner("ZAF", 0.2, "ZAR", "27", "en", ("Johannesburg", "Cape Town", "Durban")),
    Partner("KHM", 0.1, "KHR", "855", "km", ("Phnom Penh",)),
    Partner("PAK", 0.1, "PKR", "92", "in", ("Karachi", "Lahore")),
    Partner("QAT", 0.1, "QAR", "974", "ar", ("Doha",)),
    Partner("KWT", 0.1, "KWD", "965", "ar", ("Kuwait City",)),
    Partner("CHE", 0.1, "CHF", "41", "de", ("Zurich", "Geneva")),
    Partner("NOR", 0.1, "NOK", "47", "nordic", ("Oslo", "Bergen")),
    Partner("ARG", 0.1, "ARS", "54", "es", ("Buenos Aires", "Córdoba")),
    Partner("ROU", 0.1, "RON", "40", "ro", ("Bucharest", "Cluj-Napoca")),
    Partner("GRC", 0.1, "EUR", "30", "el", ("Athens", "Thessaloniki")),
    Partner("PRT", 0.1, "EUR", "351", "pt", ("Lisbon", "Porto")),
    Partner("AUT", 0.1, "EUR", "43", "de", ("Vienna", "Graz")),
    Partner("UKR", 0.1, "UAH", "380", "uk", ("Kyiv", "Odesa")),
    Partner("MMR", 0.1, "MMK", "95", "mm", ("Yangon", "Mandalay")),
    Partner("MNG", 0.05, "MNT", "976", "mn", ("Ulaanbaatar",)),
    Partner("DNK", 0.05, "DKK", "45", "nordic", ("Copenhagen", "Aarhus")),
    Partner("FIN", 0.05, "EUR", "358", "nordic", ("Helsinki", "Espoo")),
    Partner("IRL", 0.05, "EUR", "353", "en", ("Dublin", "Cork")),
    Partner("NGA", 0.05, "NGN", "234", "ng", ("Lagos", "Abuja")),
    Partner("KEN", 0.03, "KES", "254", "ke", ("Nairobi", "Mombasa")),
    Partner("LKA", 0.03, "LKR", "94", "lk", ("Colombo", "Kandy")),
)

PARTNER_BY_CODE: dict[str, Partner] = {p.code: p for p in PARTNERS}


@cache
def country_name(code: str) -> str:
    """The English short name of an ISO alpha-3 country code."""
    import pycountry

    country = pycountry.countries.get(alpha_3=code)
    if country is None:
        raise KeyError(f"unknown ISO 3166-1 alpha-3 code {code!r}")
    return str(getattr(country, "common_name", None) or country.name)
