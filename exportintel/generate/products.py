"""What firms sell and buyers want: real HS6 codes with product wording and typical prices.

The codes and their descriptions are real (HS 2022); the product names, unit prices and sector
weights are the generator's plausible assumptions, chosen to resemble the mix of Korean small
and mid-sized exporters (cosmetics, food, electronics parts, machinery, auto parts, ...).
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np


class Product(NamedTuple):
    hs6: str
    description: str  # the HS subheading, shortened
    unit_price_usd: float  # typical unit price (per piece, pack, kg or metre)
    names: tuple[str, ...]  # how firms write the product


class Sector(NamedTuple):
    name: str
    exporter_weight: float  # share of agency exporters in the sector
    buyer_weight: float  # share of buyer demand in the sector
    firm_words: tuple[str, ...]  # words in firm names
    firm_words_ko: tuple[str, ...]
    search_words: tuple[str, ...]  # extra search keywords, English and Korean
    # Commodity whose price change hurts the sector; "index": the mean of all raw materials.
    raw_material: str
    products: tuple[Product, ...]


P = Product
SECTORS: tuple[Sector, ...] = (
    Sector(
        "beauty",
        14,
        16,
        ("Cosmetics", "Beauty", "Bio", "Lab"),
        ("코스메틱", "뷰티", "바이오"),
        ("K-beauty", "skincare", "cosmetics OEM", "화장품", "마스크팩", "선크림"),
        "polyethylene",
        (
            P(
                "330499",
                "Beauty or make-up preparations, other",
                8,
                (
                    "Hydrating facial cream",
                    "Sheet mask pack",
                    "Vitamin C serum",
                    "Sunscreen SPF50+",
                    "Cushion foundation",
                ),
            ),
            P("330410", "Lip make-up preparations", 6, ("Lip tint", "Matte lipstick")),
            P("330420", "Eye make-up preparations", 6, ("Waterproof mascara", "Eyeliner pen")),
            P("330510", "Shampoos", 5, ("Anti-hair-loss shampoo", "Herbal shampoo")),
            P("330300", "Perfumes and toilet waters", 20, ("Eau de parfum", "Solid perfume")),
            P(
                "340130",
                "Organic surface-active products for washing the skin",
                4,
                ("Foam cleanser", "Body wash"),
            ),
            P("340111", "Soap for toilet use", 2, ("Handmade soap", "Charcoal soap bar")),
            P(
                "961610",
                "Scent sprays and mounts and heads therefor",
                2,
                ("Perfume atomisers", "Cosmetic spray bottles"),
            ),
            P("960321", "Toothbrushes", 0.5, ("Toothbrushes", "Charcoal bristle toothbrush")),
        ),
    ),
    Sector(
        "food",
        12,
        14,
        ("Foods", "F&B", "Agro", "Farm"),
        ("식품", "푸드", "농산"),
        ("K-food", "halal", "vegan", "private label", "라면", "김치", "김", "인삼"),
        "index",
        (
            P(
                "030617",
                "Frozen shrimps and prawns",
                9,
                ("Frozen whiteleg shrimp", "Frozen peeled prawns"),
            ),
            P(
                "030342",
                "Frozen yellowfin tunas",
                6,
                ("Frozen yellowfin tuna loin", "Sashimi-grade frozen tuna"),
            ),
            P(
                "121221",
                "Seaweeds fit for human consumption",
                12,
                ("Roasted seasoned laver", "Dried laver sheets (gim)", "Dried kelp"),
            ),
            P(
                "160420",
                "Other prepared or preserved fish",
                4,
                ("Canned tuna", "Fish cake (eomuk)"),
            ),
            P(
                "170490",
                "Sugar confectionery not containing cocoa",
                2,
                ("Fruit jelly candy", "Ginseng candy", "Soft chewing candy"),
            ),
            P(
                "180690",
                "Chocolate and other food preparations containing cocoa",
                3,
                ("Chocolate pie", "Chocolate-coated biscuits"),
            ),
            P(
                "190230",
                "Other pasta",
                0.8,
                ("Instant ramyeon noodles", "Spicy cup noodles", "Buckwheat cold noodles"),
            ),
            P(
                "190590",
                "Bread, pastry, cakes, biscuits and other bakers' wares, other",
                2,
                ("Rice crackers", "Soft snack cakes", "Cream sandwich biscuits"),
            ),
            P(
                "190410",
                "Prepared foods obtained by the swelling or roasting of cereals",
                2.5,
                ("Puffed grain snacks", "Roasted grain cereal"),
            ),
            P(
                "200599",
                "Other vegetables prepared or preserved, not frozen",
                6,
                ("Napa cabbage kimchi", "Radish kimchi (kkakdugi)", "Vegan kimchi"),
            ),
            P(
                "200989",
                "Juice of any other single fruit or vegetable",
                1.5,
                ("Korean pear juice", "Citron (yuja) juice"),
            ),
            P(
                "210390",
                "Sauces and preparations therefor; mixed condiments",
                4,
                ("Gochujang red pepper paste", "Korean barbecue sauce", "Doenjang soybean paste"),
            ),
            P(
                "210690",
                "Food preparations not elsewhere specified or included",
                15,
                ("Red ginseng extract", "Honey citron tea (yuja-cha)", "Health supplement sticks"),
            ),
            P(
                "220299",
                "Other non-alcoholic beverages",
                1,
                ("Aloe vera drink", "Rice punch (sikhye)", "Soy milk"),
            ),
            P(
                "220890",
                "Other spirits, liqueurs and spirituous beverages",
                3,
                ("Soju", "Fruit-flavoured soju"),
            ),
        ),
    ),
    Sector(
        "electronics",
        16,
        13,
        ("Electronics", "Tech", "Systems", "Semitech"),
        ("전자", "테크", "시스템"),
        ("electronics OEM", "IoT", "battery", "전자부품", "배터리"),
        "copper",
        (
            P(
                "854232",
                "Electronic integrated circuits: memories",
                3,
                ("DRAM memory chips", "NAND flash memory"),
            ),
            P(
                "854231",
                "Electronic integrated circuits: processors and controllers",
                8,
                ("Microcontroller units", "Display driver IC"),
            ),
            P(
                "850760",
                "Lithium-ion accumulators",
                50,
                ("Lithium-ion battery packs", "EV battery modules"),
            ),
            P(
                "851660",
                "Other ovens; cookers, cooking plates, boiling rings, grillers and roasters",
                80,
                ("Electric rice cooker", "Induction cooktop", "Electric grill"),
            ),
            P(
                "850940",
                "Food grinders and mixers; fruit or vegetable juice extractors",
                60,
                ("Slow juicer", "Blender"),
            ),
            P("851830", "Headphones and earphones", 20, ("Wireless earbuds", "Gaming headset")),
            P(
                "852872",
                "Reception apparatus for television, colour",
                300,
                ("LED smart TV", "Commercial display"),
            ),
            P(
                "854449",
                "Other electric conductors, for a voltage not exceeding 1,000 V",
                2,
                ("Power cables", "Insulated copper wire"),
            ),
            P("850440", "Static converters", 15, ("Power adapters", "EV charger inverter")),
            P(
                "853710",
                "Boards and panels for a voltage not exceeding 1,000 V",
                500,
                ("Distribution panels", "PLC control panels"),
            ),
            P(
                "851310",
                "Portable electric lamps",
                10,
                ("Rechargeable LED flashlight", "Camping lantern"),
            ),
        ),
    ),
    Sector(
        "machinery",
        12,
        9,
        ("Machinery", "Engineering", "Precision", "Industrial"),
        ("기계", "엔지니어링", "정밀"),
        ("industrial machinery", "automation", "spare parts", "기계", "설비"),
        "iron_ore",
        (
            P(
                "847130",
                "Portable automatic data processing machines",
                600,
                ("Rugged tablet PC", "Industrial laptop"),
            ),
            P(
                "841810",
                "Combined refrigerator-freezers",
                700,
                ("Kimchi refrigerator", "Compact refrigerator"),
            ),
            P(
                "848180",
                "Other taps, cocks, valves and similar appliances",
                40,
                ("Industrial ball valve", "Solenoid valve"),
            ),
            P(
                "847989",
                "Machines having individual functions, not elsewhere specified",
                20000,
                ("Secondary battery production equipment", "Automatic packaging machine"),
            ),
            P(
                "842139",
                "Filtering or purifying machinery and apparatus for gases",
                300,
                ("Air purifier", "Industrial dust collector"),
            ),
            P(
                "841451",
                "Table, floor, wall, window, ceiling or roof fans",
                25,
                ("Electric fan", "Air circulator fan"),
            ),
            P(
                "845011",
                "Fully-automatic washing machines, of a dry linen capacity not exceeding 10 kg",
                400,
                ("Mini washing machine", "Front-load washer"),
            ),
        ),
    ),
    Sector(
        "auto",
        9,
        8,
        ("Auto Parts", "Motors", "Precision"),
        ("오토", "모터스", "정밀"),
        ("auto parts", "aftermarket", "tyres", "자동차 부품", "타이어"),
        "natural_rubber",
        (
            P(
                "870899",
                "Other parts and accessories of motor vehicles",
                15,
                ("Automotive parts", "Car seat frames"),
            ),
            P(
                "870829",
                "Other parts and accessories of bodies",
                20,
                ("Car body panels", "Door trims"),
            ),
            P(
                "870840",
                "Gear boxes and parts thereof",
                500,
                ("Automatic transmission parts", "Gearboxes"),
            ),
            P(
                "871200",
                "Bicycles and other cycles, not motorised",
                150,
                ("Folding bicycles", "Kids bicycles"),
            ),
            P(
                "401110",
                "New pneumatic tyres, of rubber, of a kind used on motor cars",
                60,
                ("Passenger car tyres", "All-season tyres"),
            ),
            P(
                "401693",
                "Gaskets, washers and other seals, of vulcanised rubber",
                0.3,
                ("Rubber O-rings", "Rubber gaskets"),
            ),
        ),
    ),
    Sector(
        "plastics_chemicals",
        9,
        8,
        ("Chemical", "Plastics", "Polymer"),
        ("화학", "플라스틱", "폴리머"),
        ("resin", "packaging", "chemicals", "포장재", "화학"),
        "polyethylene",
        (
            P(
                "392690",
                "Other articles of plastics",
                3,
                ("Plastic storage containers", "Plastic cosmetic containers"),
            ),
            P(
                "392321",
                "Sacks and bags of polymers of ethylene",
                0.05,
                ("Polyethylene zipper bags", "Garbage bags"),
            ),
            P(
                "392410",
                "Tableware and kitchenware of plastics",
                2,
                ("Plastic food containers", "Kids tableware set"),
            ),
            P(
                "390110",
                "Polyethylene having a specific gravity of less than 0.94",
                1.2,
                ("LDPE resin", "LLDPE pellets"),
            ),
            P(
                "392020",
                "Plates, sheets, film, foil and strip of polymers of propylene",
                2.5,
                ("BOPP film", "PP sheets"),
            ),
            P("290531", "Ethylene glycol (ethanediol)", 0.9, ("Monoethylene glycol (MEG)",)),
            P(
                "291736",
                "Terephthalic acid and its salts",
                0.8,
                ("Purified terephthalic acid (PTA)",),
            ),
            P("380894", "Disinfectants", 3, ("Hand sanitiser gel", "Surface disinfectant spray")),
            P(
                "382499",
                "Chemical products and preparations, not elsewhere specified",
                2,
                ("Industrial additive", "Battery electrolyte additive"),
            ),
            P("481810", "Toilet paper", 0.4, ("Toilet paper rolls",)),
            P(
                "482390",
                "Other paper, paperboard and articles of paper",
                1,
                ("Paper cups", "Kraft paper packaging"),
            ),
        ),
    ),
    Sector(
        "medical",
        8,
        7,
        ("Medical", "Pharm", "Healthcare", "Bio"),
        ("메디칼", "제약", "헬스케어"),
        ("medical device", "CE certified", "FDA approved", "의료기기", "진단"),
        "index",
        (
            P(
                "300490",
                "Other medicaments, in measured doses",
                25,
                ("Generic tablets", "Herbal medicine capsules"),
            ),
            P(
                "300215",
                "Immunological products, put up in measured doses",
                120,
                ("Biosimilar injection", "Monoclonal antibody injection"),
            ),
            P(
                "300510",
                "Adhesive dressings and other articles having an adhesive layer",
                0.5,
                ("Hydrocolloid acne patch", "Adhesive bandages"),
            ),
            P(
                "901890",
                "Other medical, surgical or dental instruments and appliances",
                50,
                ("Surgical instruments", "Aesthetic medical device"),
            ),
            P(
                "901812",
                "Ultrasonic scanning apparatus",
                20000,
                ("Diagnostic ultrasound system", "Portable ultrasound scanner"),
            ),
            P(
                "901819",
                "Other electro-diagnostic apparatus",
                3000,
                ("Patient monitor", "ECG device"),
            ),
            P(
                "902129",
                "Dental fittings other than artificial teeth",
                200,
                ("Dental implant fixtures", "Dental abutments"),
            ),
            P(
                "900490",
                "Spectacles, goggles and the like, other",
                5,
                ("Safety goggles", "Blue-light glasses"),
            ),
        ),
    ),
    Sector(
        "apparel",
        7,
        9,
        ("Textile", "Fashion", "Apparel"),
        ("섬유", "패션", "어패럴"),
        ("K-fashion", "OEM apparel", "fabric", "의류", "원단"),
        "cotton",
        (
            P(
                "540752",
                "Woven fabrics of textured polyester filaments, dyed",
                3,
                ("Polyester woven fabric", "Functional outdoor fabric"),
            ),
            P(
                "600632",
                "Knitted or crocheted fabrics of synthetic fibres, dyed",
                4,
                ("Spandex knit fabric", "Polyester jersey fabric"),
            ),
            P(
                "610910",
                "T-shirts, singlets and other vests of cotton, knitted",
                6,
                ("Cotton T-shirts", "Graphic tees"),
            ),
            P(
                "611030",
                "Jerseys, pullovers, cardigans of man-made fibres, knitted",
                12,
                ("Knit pullover", "Fleece sweatshirt"),
            ),
            P(
                "611595",
                "Socks and other hosiery of cotton, knitted",
                1,
                ("Cotton socks", "Character socks"),
            ),
            P(
                "620342",
                "Men's or boys' trousers of cotton",
                15,
                ("Men's chino pants", "Cotton work trousers"),
            ),
            P(
                "620462",
                "Women's or girls' trousers of cotton",
                15,
                ("Women's wide pants", "Denim jeans"),
            ),
            P(
                "630790",
                "Other made up textile articles",
                1,
                ("KF94 face masks", "Textile pouches"),
            ),
            P(
                "650500",
                "Hats and other headgear, knitted or crocheted, or made up from textile",
                5,
                ("Baseball caps", "Knit beanies"),
            ),
            P(
                "420221",
                "Handbags with outer surface of leather",
                80,
                ("Leather tote bag", "Leather shoulder bag"),
            ),
            P(
                "420222",
                "Handbags with outer surface of plastic sheeting or of textile materials",
                20,
                ("Canvas tote bag", "Nylon crossbody bag"),
            ),
            P(
                "420292",
                "Other containers with outer surface of plastic sheeting or textile",
                15,
                ("Travel pouch", "Laptop backpack"),
            ),
            P(
                "640411",
                "Sports footwear with outer soles of rubber or plastics and textile uppers",
                25,
                ("Running shoes", "Training sneakers"),
            ),
            P(
                "640399",
                "Other footwear with uppers of leather",
                40,
                ("Leather loafers", "Comfort walking shoes"),
            ),
        ),
    ),
    Sector(
        "home",
        7,
        9,
        ("Living", "Home", "Kitchen", "Design"),
        ("리빙", "홈", "키친"),
        ("kitchenware", "home goods", "furniture", "주방용품", "가구"),
        "aluminium",
        (
            P(
                "732393",
                "Table, kitchen or other household articles of stainless steel",
                8,
                ("Stainless steel pots", "Stainless lunch box", "Stainless tumbler"),
            ),
            P(
                "761510",
                "Table, kitchen or other household articles of aluminium",
                10,
                ("Aluminium frying pan", "Non-stick cookware set"),
            ),
            P(
                "691110",
                "Tableware and kitchenware of porcelain or china",
                6,
                ("Porcelain dinner set", "Celadon tea cups"),
            ),
            P(
                "701349",
                "Other glassware of a kind used for table or kitchen purposes",
                3,
                ("Glass food containers", "Heat-resistant glass jars"),
            ),
            P(
                "821599",
                "Spoons, forks, ladles and similar kitchen or tableware, other",
                1.5,
                ("Stainless chopsticks and spoon set",),
            ),
            P("821191", "Table knives having fixed blades", 2, ("Stainless steel table knives",)),
            P("820559", "Other hand tools", 6, ("Garden hand tools", "Hand tool kit")),
            P("830140", "Other locks of base metal", 30, ("Digital door lock", "Smart door lock")),
            P(
                "940360",
                "Other wooden furniture",
                150,
                ("Wooden dining table", "Solid wood bed frame"),
            ),
            P(
                "940490",
                "Bedding and similar furnishing, other",
                20,
                ("Memory foam pillow", "Quilted comforter"),
            ),
            P("940320", "Other metal furniture", 80, ("Steel office cabinet", "Metal shelving")),
        ),
    ),
    Sector(
        "metals",
        3,
        3,
        ("Steel", "Metal", "Industries"),
        ("금속", "철강", "산업"),
        ("steel", "fasteners", "철강", "볼트"),
        "iron_ore",
        (
            P(
                "721049",
                "Flat-rolled iron or non-alloy steel, zinc-coated, other",
                0.9,
                ("Galvanised steel coil", "Hot-dip galvanised sheet"),
            ),
            P(
                "731815",
                "Other screws and bolts of iron or steel",
                0.1,
                ("Hex bolts", "Stainless machine screws"),
            ),
            P(
                "730890",
                "Structures and parts of structures of iron or steel, other",
                2,
                ("Steel structures", "Scaffolding parts"),
            ),
            P(
                "760612",
                "Rectangular plates, sheets and strip of aluminium alloys",
                4,
                ("Aluminium alloy sheets", "Aluminium plates"),
            ),
        ),
    ),
    Sector(
        "leisure",
        3,
        4,
        ("Toys", "Sports", "Craft"),
        ("토이", "스포츠", "공방"),
        ("toys", "character goods", "stationery", "장난감", "문구"),
        "polyethylene",
        (
            P(
                "950300",
                "Tricycles, scooters, dolls, other toys and puzzles",
                8,
                ("Educational block toys", "Plush character dolls", "Kids scooter"),
            ),
            P(
                "950490",
                "Other articles for arcade, table or parlour games",
                15,
                ("Board games", "Card games"),
            ),
            P(
                "950691",
                "Articles and equipment for general physical exercise",
                40,
                ("Home fitness equipment", "Yoga mats"),
            ),
            P(
                "711319",
                "Articles of jewellery of other precious metal",
                200,
                ("Gold rings", "14K gold earrings"),
            ),
            P(
                "711719",
                "Imitation jewellery of base metal, other",
                3,
                ("Fashion earrings", "Costume necklaces"),
            ),
            P(
                "961900",
                "Sanitary towels, tampons, napkins and diapers",
                0.2,
                ("Baby diapers", "Sanitary pads"),
            ),
            P("960810", "Ball point pens", 0.3, ("Gel ink pens", "Ballpoint pens")),
        ),
    ),
)

# The catalogue: sector by sector, codes ascending, so that the products of one chapter within
# a sector sit next to each other (the firm generator draws from such ranges).
PRODUCTS: tuple[Product, ...] = tuple(
    p for s in SECTORS for p in sorted(s.products, key=lambda p: p.hs6)
)
SECTOR_OF_PRODUCT = np.array([i for i, s in enumerate(SECTORS) for _ in s.products])
HS6_CODES = np.array([int(p.hs6) for p in PRODUCTS], dtype=np.int64)
UNIT_PRICES = np.array([p.unit_price_usd for p in PRODUCTS])
SECTOR_START = np.searchsorted(SECTOR_OF_PRODUCT, np.arange(len(SECTORS)))
SECTOR_SIZE = np.bincount(SECTOR_OF_PRODUCT, minlength=len(SECTORS))


def _chapter_ranges() -> tuple[np.ndarray, np.ndarray]:
    """Per catalogue entry: first index and count of same-sector products of its chapter."""
    key = SECTOR_OF_PRODUCT * 100 + HS6_CODES // 10_000
    start = np.searchsorted(key, key, side="left")
    stop = np.searchsorted(key, key, side="right")
    return start, stop - start


CHAPTER_START, CHAPTER_SIZE = _chapter_ranges()


def keyword_vocabulary(sector: int) -> tuple[str, ...]:
    """Search words for a sector: product names, sector words and generic sourcing words."""
    s = SECTORS[sector]
    names = tuple(n.lower() for p in s.products for n in p.names)
    return names + s.search_words
