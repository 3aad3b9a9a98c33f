// Every text of the dashboard, Korean first (the agency's staff work in Korean), English second.
// Elements carry data-i18n="key" (text) or data-i18n-attr="attr:key,attr:key" (attributes).

const STRINGS = {
  ko: {
    "app.title": "수출 인텔리전스 대시보드",
    "app.skip": "본문으로 건너뛰기",
    "app.language": "English",
    "app.languageLabel": "Switch the language to English",
    "app.signOut": "로그아웃",
    "app.signingIn": "로그인 중…",
    "app.nav": "주요 화면",
    "app.loading": "불러오는 중…",
    "app.updated": "갱신됨: {time}",
    "nav.search": "기업 검색",
    "nav.matches": "매칭",
    "nav.continuity": "수출 지속성",
    "nav.risk": "위험군",
    "nav.live": "박람회 실시간",
    "error.title": "오류가 발생했습니다",
    "error.status": "HTTP {status}",
    "error.network": "서버에 연결할 수 없습니다",
    "error.config": "설정 파일(config.json)을 읽을 수 없습니다",
    "empty.none": "표시할 내용이 없습니다.",
    "search.heading": "기업 검색",
    "search.label": "기업명 또는 기업 ID",
    "search.hint": "예: EXP000123, BUY0000456 또는 기업명의 앞부분",
    "search.submit": "검색",
    "search.results": "검색 결과 {count}건",
    "search.empty": "일치하는 기업이 없습니다.",
    "search.direct": "ID로 바로 가기",
    "col.firmId": "기업 ID",
    "col.kind": "구분",
    "col.name": "기업명",
    "col.location": "지역/국가",
    "col.hs": "HS 류",
    "col.actions": "바로 가기",
    "col.position": "순위",
    "col.buyer": "바이어",
    "col.exporter": "수출기업",
    "col.country": "국가",
    "col.score": "점수",
    "col.reasons": "추천 이유",
    "col.year": "연도",
    "col.index": "지속성 지수",
    "col.status": "상태",
    "col.riskGroup": "위험군",
    "col.riskFactors": "위험 요인",
    "col.region": "지역",
    "col.size": "규모",
    "col.item": "프로필",
    "col.views": "조회",
    "col.saves": "저장",
    "col.inquiries": "문의",
    "col.booth": "부스(수출기업)",
    "col.requested": "상담 신청",
    "col.held": "상담 진행",
    "col.variable": "변수",
    "col.riskStats": "위험군",
    "col.continuingStats": "지속 기업",
    "kind.exporter": "수출기업",
    "kind.buyer": "바이어",
    "link.matches": "매칭",
    "link.continuity": "지속성",
    "matches.heading": "매칭 결과",
    "matches.for": "{id}에 대한 추천 (최대 10건)",
    "matches.idLabel": "수출기업 또는 바이어 ID",
    "matches.show": "보기",
    "matches.refresh": "새로 뽑기 (공정 탐색)",
    "matches.refreshHint": "점수 상위 목록에서 공정 탐색으로 다시 뽑습니다. 누를 때마다 다른 조합이 나올 수 있습니다.",
    "matches.draw": "{n}번째 추첨",
    "matches.source.model": "모델 추천 (버전 {version})",
    "matches.source.cold_start": "신규 기업: HS 류 기반 추천 (버전 {version})",
    "matches.pool": "후보 {pool}건 중, 이미 처리했거나 제외된 {filtered}건 제외",
    "matches.save": "저장",
    "matches.dismiss": "제외",
    "matches.saved": "저장됨",
    "matches.dismissed": "제외됨",
    "matches.savedNotice": "{name}을(를) 저장했습니다.",
    "matches.dismissedNotice": "{name}을(를) 제외했습니다.",
    "matches.empty": "추천할 상대가 없습니다.",
    "matches.none": "기업 ID를 입력하거나 검색에서 기업을 선택하세요.",
    "continuity.heading": "수출 지속성 지수",
    "continuity.idLabel": "기업 ID",
    "continuity.show": "보기",
    "continuity.latest": "{year}년 지수",
    "continuity.inRisk": "위험군",
    "continuity.notInRisk": "위험군 아님",
    "continuity.chartLabel": "연도별 수출 지속성 지수 선 그래프",
    "continuity.series": "지속성 지수",
    "continuity.history": "연도별 상태",
    "continuity.factors": "주요 위험 요인 ({year}년)",
    "continuity.noFactors": "두드러진 위험 요인이 없습니다.",
    "continuity.none": "기업 ID를 입력하거나 검색에서 기업을 선택하세요.",
    "continuity.profile": "지역 {region} · HS {hs}류 · 규모 {size}",
    "status.continuing": "지속",
    "status.discontinued": "중단",
    "status.pending": "판단 보류",
    "yes": "예",
    "no": "아니오",
    "size.small": "소기업",
    "size.medium": "중기업",
    "size.large": "대기업",
    "risk.heading": "위험군",
    "risk.filters": "필터",
    "risk.hs": "HS 류 (두 자리)",
    "risk.region": "지역",
    "risk.size": "규모",
    "risk.all": "전체",
    "risk.limit": "한 번에 표시",
    "risk.apply": "적용",
    "risk.csv": "CSV 내려받기",
    "risk.more": "더 보기",
    "risk.count": "{year}년 위험군: {count}개 기업 표시",
    "risk.moreAvailable": "(다음 페이지 있음)",
    "risk.empty": "조건에 맞는 위험군 기업이 없습니다.",
    "risk.downloaded": "CSV 파일을 내려받았습니다.",
    "risk.compare": "위험군과 지속 기업 비교",
    "risk.compareCaption": "{year}년, 모델 {version}: 연속형 변수는 중앙값(사분위 범위)과 평균, 범주형 변수는 최빈 범주와 비율",
    "risk.compareEmpty": "비교 통계가 없습니다.",
    "risk.median": "중앙값 {median} ({p25}–{p75}), 평균 {mean}",
    "risk.top": "{category} ({share})",
    "risk.firms": "기업 {n}개",
    "live.heading": "박람회 실시간",
    "live.day": "{day} (서울)",
    "live.viewed": "오늘 가장 많이 조회된 프로필",
    "live.saved": "오늘 가장 많이 저장된 프로필",
    "live.inquired": "오늘 가장 많이 문의된 프로필",
    "live.meetings": "부스별 상담 신청·진행",
    "live.totals": "부스 {exporters}곳 · 상담 신청 {requested}건 · 진행 {held}건",
    "live.empty": "아직 오늘의 기록이 없습니다.",
    "live.pause": "자동 갱신 멈춤",
    "live.resume": "자동 갱신 재개",
    "live.refresh": "지금 갱신",
    "live.every": "{seconds}초마다 자동 갱신",
  },
  en: {
    "app.title": "Export Intelligence Dashboard",
    "app.skip": "Skip to the content",
    "app.language": "한국어",
    "app.languageLabel": "언어를 한국어로 바꾸기",
    "app.signOut": "Sign out",
    "app.signingIn": "Signing in…",
    "app.nav": "Main views",
    "app.loading": "Loading…",
    "app.updated": "Updated: {time}",
    "nav.search": "Firm search",
    "nav.matches": "Matches",
    "nav.continuity": "Export continuity",
    "nav.risk": "Risk group",
    "nav.live": "Live fair",
    "error.title": "Something went wrong",
    "error.status": "HTTP {status}",
    "error.network": "The server cannot be reached",
    "error.config": "The settings file (config.json) cannot be read",
    "empty.none": "Nothing to show.",
    "search.heading": "Firm search",
    "search.label": "Firm name or firm id",
    "search.hint": "For example EXP000123, BUY0000456 or the start of a firm's name",
    "search.submit": "Search",
    "search.results": "{count} firms found",
    "search.empty": "No firm matches.",
    "search.direct": "Go by id",
    "col.firmId": "Firm id",
    "col.kind": "Kind",
    "col.name": "Name",
    "col.location": "Region or country",
    "col.hs": "HS chapters",
    "col.actions": "Open",
    "col.position": "Rank",
    "col.buyer": "Buyer",
    "col.exporter": "Exporter",
    "col.country": "Country",
    "col.score": "Score",
    "col.reasons": "Why",
    "col.year": "Year",
    "col.index": "Continuity index",
    "col.status": "Status",
    "col.riskGroup": "Risk group",
    "col.riskFactors": "Risk factors",
    "col.region": "Region",
    "col.size": "Size",
    "col.item": "Profile",
    "col.views": "Views",
    "col.saves": "Saves",
    "col.inquiries": "Inquiries",
    "col.booth": "Booth (exporter)",
    "col.requested": "Meetings requested",
    "col.held": "Meetings held",
    "col.variable": "Variable",
    "col.riskStats": "Risk group",
    "col.continuingStats": "Continuing firms",
    "kind.exporter": "Exporter",
    "kind.buyer": "Buyer",
    "link.matches": "Matches",
    "link.continuity": "Continuity",
    "matches.heading": "Matches",
    "matches.for": "Recommended for {id} (at most 10)",
    "matches.idLabel": "Exporter or buyer id",
    "matches.show": "Show",
    "matches.refresh": "New draw (fair exploration)",
    "matches.refreshHint": "Draws again from the top of the list with the fair exploration: each click may show other firms.",
    "matches.draw": "Draw {n}",
    "matches.source.model": "Model recommendations (version {version})",
    "matches.source.cold_start": "New firm: recommendations by HS chapter (version {version})",
    "matches.pool": "From {pool} candidates, {filtered} already dealt with or excluded",
    "matches.save": "Save",
    "matches.dismiss": "Dismiss",
    "matches.saved": "Saved",
    "matches.dismissed": "Dismissed",
    "matches.savedNotice": "Saved {name}.",
    "matches.dismissedNotice": "Dismissed {name}.",
    "matches.empty": "No counterpart to recommend.",
    "matches.none": "Enter a firm id or pick a firm in the search.",
    "continuity.heading": "Export continuity index",
    "continuity.idLabel": "Firm id",
    "continuity.show": "Show",
    "continuity.latest": "Index in {year}",
    "continuity.inRisk": "In the risk group",
    "continuity.notInRisk": "Not in the risk group",
    "continuity.chartLabel": "Line chart of the export continuity index per year",
    "continuity.series": "Continuity index",
    "continuity.history": "Status per year",
    "continuity.factors": "Top risk factors ({year})",
    "continuity.noFactors": "No marked risk factor.",
    "continuity.none": "Enter a firm id or pick a firm in the search.",
    "continuity.profile": "Region {region} · HS chapter {hs} · size {size}",
    "status.continuing": "Continuing",
    "status.discontinued": "Discontinued",
    "status.pending": "Pending",
    "yes": "Yes",
    "no": "No",
    "size.small": "Small",
    "size.medium": "Medium",
    "size.large": "Large",
    "risk.heading": "Risk group",
    "risk.filters": "Filters",
    "risk.hs": "HS chapter (two digits)",
    "risk.region": "Region",
    "risk.size": "Size",
    "risk.all": "All",
    "risk.limit": "Rows per page",
    "risk.apply": "Apply",
    "risk.csv": "Download CSV",
    "risk.more": "Show more",
    "risk.count": "Risk group of {year}: {count} firms shown",
    "risk.moreAvailable": "(more pages)",
    "risk.empty": "No firm of the risk group matches the filters.",
    "risk.downloaded": "The CSV file was downloaded.",
    "risk.compare": "Risk group against continuing firms",
    "risk.compareCaption": "{year}, model {version}: median (interquartile range) and mean of continuous variables, most frequent category and its share of categorical ones",
    "risk.compareEmpty": "No comparison available.",
    "risk.median": "median {median} ({p25}–{p75}), mean {mean}",
    "risk.top": "{category} ({share})",
    "risk.firms": "{n} firms",
    "live.heading": "Live fair",
    "live.day": "{day} (Seoul)",
    "live.viewed": "Most viewed profiles today",
    "live.saved": "Most saved profiles today",
    "live.inquired": "Most inquired profiles today",
    "live.meetings": "Meetings requested and held per booth",
    "live.totals": "{exporters} booths · {requested} meetings requested · {held} held",
    "live.empty": "Nothing recorded today yet.",
    "live.pause": "Pause updates",
    "live.resume": "Resume updates",
    "live.refresh": "Update now",
    "live.every": "Updates every {seconds} seconds",
  },
};

const REGIONS_KO = {
  Seoul: "서울", Busan: "부산", Daegu: "대구", Incheon: "인천", Gwangju: "광주",
  Daejeon: "대전", Ulsan: "울산", Sejong: "세종", Gyeonggi: "경기", Gangwon: "강원",
  Chungbuk: "충북", Chungnam: "충남", Jeonbuk: "전북", Jeonnam: "전남",
  Gyeongbuk: "경북", Gyeongnam: "경남", Jeju: "제주",
};
export const REGIONS = Object.keys(REGIONS_KO);
export const LANGUAGES = ["ko", "en"];
const STORAGE_KEY = "exportintel.language";

let current = LANGUAGES.includes(localStorage.getItem(STORAGE_KEY))
  ? localStorage.getItem(STORAGE_KEY)
  : "ko";

export function language() {
  return current;
}

export function setLanguage(code) {
  current = LANGUAGES.includes(code) ? code : "ko";
  localStorage.setItem(STORAGE_KEY, current);
  document.documentElement.lang = current;
}

/** The text of `key` in the current language, `{name}` placeholders filled from `params`. */
export function t(key, params = {}) {
  const text = STRINGS[current][key] ?? STRINGS.ko[key] ?? key;
  return text.replace(/\{(\w+)\}/g, (whole, name) =>
    params[name] === undefined || params[name] === null ? "" : String(params[name]),
  );
}

export function regionName(region) {
  if (!region) return "";
  return current === "ko" ? REGIONS_KO[region] ?? region : region;
}

export function statusName(status) {
  return status ? t(`status.${status}`) : "";
}

export function sizeName(size) {
  return size ? t(`size.${size}`) : "";
}

export function formatNumber(value, digits = 3) {
  if (value === null || value === undefined || Number.isNaN(Number(value))) return "–";
  return Number(value).toLocaleString(current === "ko" ? "ko-KR" : "en-GB", {
    maximumFractionDigits: digits,
    minimumFractionDigits: Number.isInteger(Number(value)) ? 0 : Math.min(digits, 2),
  });
}

export function formatShare(value) {
  if (value === null || value === undefined) return "–";
  return `${(Number(value) * 100).toFixed(1)}%`;
}

/** Fill the static texts of `root` (elements marked with data-i18n / data-i18n-attr). */
export function translate(root = document) {
  for (const element of root.querySelectorAll("[data-i18n]")) {
    element.textContent = t(element.dataset.i18n);
  }
  for (const element of root.querySelectorAll("[data-i18n-attr]")) {
    for (const pair of element.dataset.i18nAttr.split(",")) {
      const [attribute, key] = pair.split(":");
      element.setAttribute(attribute.trim(), t(key.trim()));
    }
  }
}
