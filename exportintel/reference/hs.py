"""The 97 chapters of the Harmonized System, with English and Korean titles.

English titles follow the WCO nomenclature (HS 2022); Korean titles follow the Korean tariff
schedule (관세율표), without the hanja and English glosses it puts in brackets. Chapter 77
is reserved by the WCO for future use and has no goods.
"""

from __future__ import annotations

from typing import NamedTuple


class Chapter(NamedTuple):
    code: str  # two digits, "01".."97"
    name_en: str
    name_ko: str


_CHAPTERS: tuple[tuple[str, str, str], ...] = (
    ("01", "Live animals", "살아 있는 동물"),
    ("02", "Meat and edible meat offal", "육과 식용 설육"),
    ("03", "Fish and crustaceans, molluscs and other aquatic invertebrates",
     "어류·갑각류·연체동물과 그 밖의 수생 무척추동물"),
    ("04", "Dairy produce; birds' eggs; natural honey; edible products of animal origin, "
     "not elsewhere specified or included",
     "낙농품, 새의 알, 천연꿀, 다른 류로 분류되지 않은 식용인 동물성 생산품"),
    ("05", "Products of animal origin, not elsewhere specified or included",
     "다른 류로 분류되지 않은 동물성 생산품"),
    ("06", "Live trees and other plants; bulbs, roots and the like; cut flowers and "
     "ornamental foliage",
     "살아 있는 수목과 그 밖의 식물, 인경·뿌리와 이와 유사한 물품, 절화와 장식용 잎"),
    ("07", "Edible vegetables and certain roots and tubers", "식용의 채소·뿌리·괴경"),
    ("08", "Edible fruit and nuts; peel of citrus fruit or melons",
     "식용의 과실과 견과류, 감귤류·멜론의 껍질"),
    ("09", "Coffee, tea, maté and spices", "커피·차·마테·향신료"),
    ("10", "Cereals", "곡물"),
    ("11", "Products of the milling industry; malt; starches; inulin; wheat gluten",
     "제분공업의 생산품과 맥아, 전분, 이눌린, 밀의 글루텐"),
    ("12", "Oil seeds and oleaginous fruits; miscellaneous grains, seeds and fruit; industrial "
     "or medicinal plants; straw and fodder",
     "채유에 적합한 종자와 과실, 각종 종자와 과실, 공업용·의약용 식물, 짚과 사료용 식물"),
    ("13", "Lac; gums, resins and other vegetable saps and extracts",
     "락, 검·수지·그 밖의 식물성 수액과 추출물"),
    ("14", "Vegetable plaiting materials; vegetable products not elsewhere specified or "
     "included",
     "식물성 편조물용 재료와 다른 류로 분류되지 않은 식물성 생산품"),
    ("15", "Animal, vegetable or microbial fats and oils and their cleavage products; prepared "
     "edible fats; animal or vegetable waxes",
     "동물성·식물성·미생물성 지방과 기름 및 이들의 분해생산물, 조제한 식용 지방과 "
     "동물성·식물성 왁스"),
    ("16", "Preparations of meat, of fish, of crustaceans, molluscs or other aquatic "
     "invertebrates, or of insects",
     "육류·어류·갑각류·연체동물이나 그 밖의 수생 무척추동물 또는 곤충의 조제품"),
    ("17", "Sugars and sugar confectionery", "당류와 설탕과자"),
    ("18", "Cocoa and cocoa preparations", "코코아와 그 조제품"),
    ("19", "Preparations of cereals, flour, starch or milk; pastrycooks' products",
     "곡물·고운 가루·전분·밀크의 조제품과 베이커리 제품"),
    ("20", "Preparations of vegetables, fruit, nuts or other parts of plants",
     "채소·과실·견과류나 식물의 그 밖의 부분의 조제품"),
    ("21", "Miscellaneous edible preparations", "각종 조제 식료품"),
    ("22", "Beverages, spirits and vinegar", "음료·주류·식초"),
    ("23", "Residues and waste from the food industries; prepared animal fodder",
     "식품 공업에서 생기는 잔재물과 웨이스트, 조제 사료"),
    ("24", "Tobacco and manufactured tobacco substitutes; products, whether or not containing "
     "nicotine, intended for inhalation without combustion; other nicotine containing "
     "products intended for the intake of nicotine into the human body",
     "담배와 제조한 담배 대용물, 연소시키지 않고 흡입하도록 만들어진 물품(니코틴을 함유하였는지에 "
     "상관없다), 니코틴을 함유한 그 밖의 물품으로 인체 내에 니코틴을 흡수시키도록 만들어진 것"),
    ("25", "Salt; sulphur; earths and stone; plastering materials, lime and cement",
     "소금, 황, 토석류, 석고·석회·시멘트"),
    ("26", "Ores, slag and ash", "광·슬래그·회"),
    ("27", "Mineral fuels, mineral oils and products of their distillation; bituminous "
     "substances; mineral waxes",
     "광물성 연료·광물유와 이들의 증류물, 역청물질, 광물성 왁스"),
    ("28", "Inorganic chemicals; organic or inorganic compounds of precious metals, of "
     "rare-earth metals, of radioactive elements or of isotopes",
     "무기화학품, 귀금속·희토류금속·방사성원소·동위원소의 유기화합물이나 무기화합물"),
    ("29", "Organic chemicals", "유기화학품"),
    ("30", "Pharmaceutical products", "의료용품"),
    ("31", "Fertilisers", "비료"),
    ("32", "Tanning or dyeing extracts; tannins and their derivatives; dyes, pigments and other "
     "colouring matter; paints and varnishes; putty and other mastics; inks",
     "유연용·염색용 추출물, 탄닌과 이들의 유도체, 염료·안료와 그 밖의 착색제, "
     "페인트·바니시, 퍼티와 그 밖의 매스틱, 잉크"),
    ("33", "Essential oils and resinoids; perfumery, cosmetic or toilet preparations",
     "정유와 레지노이드, 조제향료와 화장품·화장용품"),
    ("34", "Soap, organic surface-active agents, washing preparations, lubricating "
     "preparations, artificial waxes, prepared waxes, polishing or scouring preparations, "
     "candles and similar articles, modelling pastes, \"dental waxes\" and dental "
     "preparations with a basis of plaster",
     "비누·유기계면활성제·조제 세제·조제 윤활제·인조 왁스·조제 왁스·광택용이나 연마용 "
     "조제품·양초와 이와 유사한 물품·조형용 페이스트·치과용 왁스와 플라스터를 기본 재료로 한 "
     "치과용 조제품"),
    ("35", "Albuminoidal substances; modified starches; glues; enzymes",
     "단백질계 물질, 변성전분, 글루, 효소"),
    ("36", "Explosives; pyrotechnic products; matches; pyrophoric alloys; certain combustible "
     "preparations",
     "화약류, 화공품, 성냥, 발화성 합금, 특정 가연성 조제품"),
    ("37", "Photographic or cinematographic goods", "사진용이나 영화용 재료"),
    ("38", "Miscellaneous chemical products", "각종 화학공업 생산품"),
    ("39", "Plastics and articles thereof", "플라스틱과 그 제품"),
    ("40", "Rubber and articles thereof", "고무와 그 제품"),
    ("41", "Raw hides and skins (other than furskins) and leather",
     "원피(모피는 제외한다)와 가죽"),
    ("42", "Articles of leather; saddlery and harness; travel goods, handbags and similar "
     "containers; articles of animal gut (other than silk-worm gut)",
     "가죽제품, 마구, 여행용구·핸드백과 이와 유사한 용기, 동물 거트(누에의 거트는 "
     "제외한다)의 제품"),
    ("43", "Furskins and artificial fur; manufactures thereof", "모피·인조모피와 이들의 제품"),
    ("44", "Wood and articles of wood; wood charcoal", "목재와 그 제품, 목탄"),
    ("45", "Cork and articles of cork", "코르크와 그 제품"),
    ("46", "Manufactures of straw, of esparto or of other plaiting materials; basketware and "
     "wickerwork",
     "짚·에스파르토나 그 밖의 조물 재료의 제품, 바구니 세공물과 지조세공물"),
    ("47", "Pulp of wood or of other fibrous cellulosic material; recovered (waste and scrap) "
     "paper or paperboard",
     "목재나 그 밖의 섬유질 셀룰로오스재료의 펄프, 회수한 종이·판지[웨이스트와 스크랩]"),
    ("48", "Paper and paperboard; articles of paper pulp, of paper or of paperboard",
     "종이와 판지, 제지용 펄프·종이·판지의 제품"),
    ("49", "Printed books, newspapers, pictures and other products of the printing industry; "
     "manuscripts, typescripts and plans",
     "인쇄서적·신문·회화·그 밖의 인쇄물, 수제 문서·타자문서·도면"),
    ("50", "Silk", "견"),
    ("51", "Wool, fine or coarse animal hair; horsehair yarn and woven fabric",
     "양모·동물의 부드러운 털이나 거친 털·말의 털로 만든 실과 직물"),
    ("52", "Cotton", "면"),
    ("53", "Other vegetable textile fibres; paper yarn and woven fabrics of paper yarn",
     "그 밖의 식물성 방직용 섬유, 종이실과 종이실로 만든 직물"),
    ("54", "Man-made filaments; strip and the like of man-made textile materials",
     "인조필라멘트, 인조방직용 섬유재료의 스트립과 이와 유사한 것"),
    ("55", "Man-made staple fibres", "인조스테이플섬유"),
    ("56", "Wadding, felt and nonwovens; special yarns; twine, cordage, ropes and cables and "
     "articles thereof",
     "워딩·펠트·부직포, 특수사, 끈·배의 밧줄·로프·케이블과 이들의 제품"),
    ("57", "Carpets and other textile floor coverings",
     "양탄자류와 그 밖의 방직용 섬유로 만든 바닥깔개"),
    ("58", "Special woven fabrics; tufted textile fabrics; lace; tapestries; trimmings; "
     "embroidery",
     "특수직물, 터프트한 직물, 레이스, 태피스트리, 트리밍, 자수천"),
    ("59", "Impregnated, coated, covered or laminated textile fabrics; textile articles of a "
     "kind suitable for industrial use",
     "침투·도포·피복하거나 적층한 방직용 섬유의 직물, 공업용인 방직용 섬유제품"),
    ("60", "Knitted or crocheted fabrics", "메리야스 편물과 뜨개질 편물"),
    ("61", "Articles of apparel and clothing accessories, knitted or crocheted",
     "의류와 그 부속품(메리야스 편물이나 뜨개질 편물로 한정한다)"),
    ("62", "Articles of apparel and clothing accessories, not knitted or crocheted",
     "의류와 그 부속품(메리야스 편물이나 뜨개질 편물은 제외한다)"),
    ("63", "Other made up textile articles; sets; worn clothing and worn textile articles; rags",
     "제품으로 된 방직용 섬유의 그 밖의 물품, 세트, 사용하던 의류·방직용 섬유제품, 넝마"),
    ("64", "Footwear, gaiters and the like; parts of such articles",
     "신발류·각반과 이와 유사한 것, 이들의 부분품"),
    ("65", "Headgear and parts thereof", "모자류와 그 부분품"),
    ("66", "Umbrellas, sun umbrellas, walking-sticks, seat-sticks, whips, riding-crops and "
     "parts thereof",
     "산류·지팡이·시트스틱·채찍·승마용 채찍과 이들의 부분품"),
    ("67", "Prepared feathers and down and articles made of feathers or of down; artificial "
     "flowers; articles of human hair",
     "조제 깃털·솜털과 그 제품, 조화, 사람 머리카락으로 된 제품"),
    ("68", "Articles of stone, plaster, cement, asbestos, mica or similar materials",
     "돌·플라스터·시멘트·석면·운모나 이와 유사한 재료의 제품"),
    ("69", "Ceramic products", "도자제품"),
    ("70", "Glass and glassware", "유리와 유리제품"),
    ("71", "Natural or cultured pearls, precious or semi-precious stones, precious metals, "
     "metals clad with precious metal, and articles thereof; imitation jewellery; coin",
     "천연진주·양식진주·귀석·반귀석·귀금속·귀금속을 입힌 금속과 이들의 제품, 모조 "
     "신변장식용품, 주화"),
    ("72", "Iron and steel", "철강"),
    ("73", "Articles of iron or steel", "철강의 제품"),
    ("74", "Copper and articles thereof", "구리와 그 제품"),
    ("75", "Nickel and articles thereof", "니켈과 그 제품"),
    ("76", "Aluminium and articles thereof", "알루미늄과 그 제품"),
    ("77", "(Reserved for possible future use in the Harmonized System)", "(유보)"),
    ("78", "Lead and articles thereof", "납과 그 제품"),
    ("79", "Zinc and articles thereof", "아연과 그 제품"),
    ("80", "Tin and articles thereof", "주석과 그 제품"),
    ("81", "Other base metals; cermets; articles thereof", "그 밖의 비금속, 서멧, 이들의 제품"),
    ("82", "Tools, implements, cutlery, spoons and forks, of base metal; parts thereof of base "
     "metal",
     "비금속으로 만든 공구·도구·칼붙이·스푼·포크, 이들의 부분품"),
    ("83", "Miscellaneous articles of base metal", "비금속으로 만든 각종 제품"),
    ("84", "Nuclear reactors, boilers, machinery and mechanical appliances; parts thereof",
     "원자로·보일러·기계류와 이들의 부분품"),
    ("85", "Electrical machinery and equipment and parts thereof; sound recorders and "
     "reproducers, television image and sound recorders and reproducers, and parts and "
     "accessories of such articles",
     "전기기기와 그 부분품, 녹음기·음성 재생기·텔레비전의 영상과 음성의 기록기·재생기와 "
     "이들의 부분품·부속품"),
    ("86", "Railway or tramway locomotives, rolling stock and parts thereof; railway or tramway "
     "track fixtures and fittings and parts thereof; mechanical (including "
     "electro-mechanical) traffic signalling equipment of all kinds",
     "철도용이나 궤도용 기관차·차량과 이들의 부분품, 철도용이나 궤도용 장비품과 그 부분품, "
     "기계식(전기기계식을 포함한다) 각종 교통신호용 기기"),
    ("87", "Vehicles other than railway or tramway rolling stock, and parts and accessories "
     "thereof",
     "철도용이나 궤도용 외의 차량과 그 부분품·부속품"),
    ("88", "Aircraft, spacecraft, and parts thereof", "항공기와 우주선, 이들의 부분품"),
    ("89", "Ships, boats and floating structures", "선박과 수상 구조물"),
    ("90", "Optical, photographic, cinematographic, measuring, checking, precision, medical or "
     "surgical instruments and apparatus; parts and accessories thereof",
     "광학기기·사진용 기기·영화용 기기·측정기기·검사기기·정밀기기·의료용 기기, 이들의 "
     "부분품과 부속품"),
    ("91", "Clocks and watches and parts thereof", "시계와 그 부분품"),
    ("92", "Musical instruments; parts and accessories of such articles",
     "악기와 그 부분품과 부속품"),
    ("93", "Arms and ammunition; parts and accessories thereof",
     "무기·총포탄과 이들의 부분품과 부속품"),
    ("94", "Furniture; bedding, mattresses, mattress supports, cushions and similar stuffed "
     "furnishings; luminaires and lighting fittings, not elsewhere specified or included; "
     "illuminated signs, illuminated name-plates and the like; prefabricated buildings",
     "가구, 침구·매트리스·매트리스 서포트·쿠션과 이와 유사한 물품, 다른 류로 분류되지 않은 "
     "조명기구, 조명용 사인·조명용 네임플레이트와 이와 유사한 물품, 조립식 건축물"),
    ("95", "Toys, games and sports requisites; parts and accessories thereof",
     "완구·게임용구·운동용구와 이들의 부분품과 부속품"),
    ("96", "Miscellaneous manufactured articles", "잡품"),
    ("97", "Works of art, collectors' pieces and antiques", "예술품·수집품·골동품"),
)  # fmt: skip

HS_CHAPTERS: dict[str, Chapter] = {code: Chapter(code, en, ko) for code, en, ko in _CHAPTERS}
RESERVED_CHAPTERS = frozenset({"77"})


def chapter_name(code: str, language: str = "en") -> str:
    """The title of an HS chapter ("01".."97") in English ("en") or Korean ("ko")."""
    chapter = HS_CHAPTERS[code[:2]]
    return chapter.name_ko if language == "ko" else chapter.name_en
