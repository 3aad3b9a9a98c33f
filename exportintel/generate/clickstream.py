"""The clickstream of the matching site and the online fair, streamed day range by day range.

Sessions are spread over the history days by `behaviour.day_weights` (growing traffic, fair
peaks). Within a session a signed-in exporter or buyer browses their category, searches, and
opens profiles of the other side chosen with softmax(affinity) among those shown; a profile
view turns into a save or an inquiry with the ground-truth probabilities. Ratings are posted
after meetings of `match_history`.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import numpy as np

from exportintel.generate import people
from exportintel.generate.behaviour import (
    CANDIDATES,
    Fair,
    Matches,
    Outcomes,
    Pool,
    choose,
    day_weights,
    history_days,
)
from exportintel.generate.common import HISTORY_END, YEARS, mix64, rng_for, sigmoid, year_index
from exportintel.generate.firms import Buyers, Exporters
from exportintel.generate.products import HS6_CODES, PRODUCTS, SECTOR_OF_PRODUCT, keyword_vocabulary
from exportintel.generate.truth import MATCHING, Affinity
from exportintel.generate.writer import utc_timestamps, uuids

ACTORS = ("exporter", "buyer", "staff", "anonymous")
ACTOR_SHARES = (0.33, 0.42, 0.05, 0.20)
EVENT_TYPES = ("login", "page_view", "search", "click", "profile_view", "save", "inquiry",
               "rating")  # fmt: skip
LOGIN, PAGE_VIEW, SEARCH, CLICK, PROFILE_VIEW, SAVE, INQUIRY, RATING = range(8)
BROWSE_TYPES = (PAGE_VIEW, SEARCH, CLICK, PROFILE_VIEW)
BROWSE_SHARES = (0.38, 0.17, 0.17, 0.28)
MEAN_BROWSE_EVENTS = 6  # after the login (or landing) event
EVENTS_PER_SESSION = 7.3  # measured mean, follow-ups included: sizes the session count
SESSIONS_PER_CHUNK = 20_000
STAFF_ACCOUNTS = 40
CONSENT_SIGNED_IN, CONSENT_ANONYMOUS = 0.72, 0.55
PII_IN_SEARCH = 0.005  # searches with a phone number or e-mail address typed in
RATING_POSTED = 0.15  # share of post-meeting ratings also left on the site
_MODIFIERS = ("supplier", "manufacturer", "wholesale", "OEM", "price", "bulk", "distributor",
              "importer", "korea", "catalogue")  # fmt: skip
_PAGES = ("/", "/category", "/fairs", "/fairs/current", "/news", "/my/list", "/my/matches")
_PAGE_SHARES = (0.2, 0.35, 0.1, 0.1, 0.1, 0.1, 0.05)
# Browser user agents; versions follow the event's year so old events carry old browsers.
_AGENTS = (
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/{chrome}.0.0.0 Safari/537.36",
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) "
    "Version/{safari}.0 Safari/605.1.15",
    "Mozilla/5.0 (iPhone; CPU iPhone OS {ios}_0 like Mac OS X) AppleWebKit/605.1.15 "
    "(KHTML, like Gecko) Version/{ios}.0 Mobile/15E148 Safari/604.1",
    "Mozilla/5.0 (Linux; Android {android}; SM-S911N) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/{chrome}.0.0.0 Mobile Safari/537.36",
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/{chrome}.0.0.0 Safari/537.36 Edg/{chrome}.0.0.0",
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:{firefox}.0) Gecko/20100101 Firefox/{firefox}.0",
    "Mozilla/5.0 (Linux; Android {android}; SM-A536N) AppleWebKit/537.36 (KHTML, like Gecko) "
    "SamsungBrowser/{samsung}.0 Chrome/{chrome}.0.0.0 Mobile Safari/537.36",
)


def _agent_table() -> list[list[str]]:
    table = []
    for template in _AGENTS:
        row = []
        for year in YEARS:
            y = year - YEARS[0]
            row.append(template.format(
                chrome=48 + round(8.3 * y), safari=9 + y, ios=9 + y, android=6 + y,
                firefox=44 + round(9.1 * y), samsung=4 + 2 * y,
            ))  # fmt: skip
        table.append(row)
    return table


@dataclass(frozen=True)
class RatingPosts:
    """Post-meeting ratings that the participants also left on the site."""

    day: np.ndarray
    side: np.ndarray  # 0: the exporter rates the buyer, 1: the buyer rates the exporter
    exporter: np.ndarray
    buyer: np.ndarray
    rating: np.ndarray


def rating_posts(seed: int, matches: Matches, result: Outcomes) -> RatingPosts:
    rng = rng_for(seed, "rating_posts")
    parts = []
    for rater, values in ((0, result.exporter_rating), (1, result.buyer_rating)):
        posted = ~np.isnan(values) & (rng.random(len(values)) < RATING_POSTED)
        idx = np.flatnonzero(posted)
        later = matches.day[idx] + rng.integers(1, 22, len(idx))
        parts.append((np.minimum(later, np.datetime64(HISTORY_END)), np.full(len(idx), rater),
                      matches.exporter[idx], matches.buyer[idx], values[idx]))  # fmt: skip
    day, side, exporter, buyer, rating = (
        np.concatenate(column) for column in zip(*parts, strict=True)
    )
    order = np.argsort(day, kind="stable")
    return RatingPosts(day[order], side[order], exporter[order], buyer[order], rating[order])


@dataclass(frozen=True)
class _Sessions:
    """One chunk's sessions, in order of start time."""

    actor: np.ndarray  # index into ACTORS
    who: np.ndarray  # exporter, buyer or staff index; -1 for anonymous visitors
    day: np.ndarray
    year: np.ndarray  # index into YEARS
    number: np.ndarray  # global session number
    focus: np.ndarray  # catalogue product the session is about
    post: np.ndarray  # rating post the session carries, -1 for browsing sessions


class Clickstream:
    """Generates web_events chunk by chunk, each chunk a consecutive range of days."""

    def __init__(
        self,
        seed: int,
        exporters: Exporters,
        buyers: Buyers,
        affinity: Affinity,
        fair_list: list[Fair],
        ratings: RatingPosts,
        target_events: int,
    ) -> None:
        self.seed = seed
        self.exporters, self.buyers, self.affinity, self.ratings = (
            exporters, buyers, affinity, ratings
        )  # fmt: skip
        self.exporter_ids = np.array(exporters.ids, dtype=object)
        self.buyer_ids = np.array(buyers.ids, dtype=object)
        self.exporter_pool = Pool(exporters.hs6, exporters.popularity, exporters.joined)
        self.buyer_pool = Pool(buyers.hs6, buyers.visibility, buyers.joined)
        self.exporter_activity = Pool(exporters.hs6, exporters.activity, exporters.joined)
        self.buyer_activity = Pool(buyers.hs6, buyers.activity, buyers.joined)
        self.vocabulary = [keyword_vocabulary(s) for s in range(SECTOR_OF_PRODUCT.max() + 1)]
        self.agents = _agent_table()
        self.days = history_days()
        weights = day_weights(self.days, fair_list)
        sessions = max(1, round((target_events - 3 * len(ratings.day)) / EVENTS_PER_SESSION))
        rng = rng_for(seed, "web_sessions")
        self.sessions_per_day = rng.multinomial(sessions, weights / weights.sum())

    def chunks(self) -> Iterator[dict[str, list[Any]]]:
        bounds = [0]
        running = 0
        for d, count in enumerate(self.sessions_per_day.tolist()):
            running += count
            if running >= SESSIONS_PER_CHUNK:
                bounds.append(d + 1)
                running = 0
        if bounds[-1] != len(self.days):
            bounds.append(len(self.days))
        first_session = 0
        for c, (lo, hi) in enumerate(itertools.pairwise(bounds)):
            rng = rng_for(self.seed, "web_events", c)
            days = np.repeat(self.days[lo:hi], self.sessions_per_day[lo:hi])
            in_range = (self.ratings.day >= self.days[lo]) & (
                self.ratings.day < self.days[hi - 1] + 1
            )
            yield self._chunk(rng, days, np.flatnonzero(in_range), first_session)
            first_session += len(days) + int(in_range.sum())

    def _chunk(
        self, rng: np.random.Generator, days: np.ndarray, posts: np.ndarray, first_session: int
    ) -> dict[str, list[Any]]:
        n_browse, n_rate = len(days), len(posts)
        n = n_browse + n_rate
        # ---- sessions: browsing sessions, then one short session per rating post
        actor = np.concatenate([
            rng.choice(len(ACTORS), size=n_browse, p=ACTOR_SHARES),
            np.where(self.ratings.side[posts] == 0, 0, 1),
        ])  # fmt: skip
        day = np.concatenate([days, self.ratings.day[posts]])
        year = day.astype("datetime64[Y]").astype(int) + 1970 - YEARS[0]
        who = np.full(n, -1, dtype=np.int64)
        for code, pool in ((0, self.exporter_activity), (1, self.buyer_activity)):
            idx = np.flatnonzero(actor[:n_browse] == code)
            who[idx] = pool.any(rng, year[idx])
        staff = np.flatnonzero(actor == 2)
        who[staff] = rng.integers(0, STAFF_ACCOUNTS, len(staff))
        rated = np.arange(n_browse, n)
        who[rated] = np.where(
            actor[rated] == 0, self.ratings.exporter[posts], self.ratings.buyer[posts]
        )
        signed_in = actor != 3
        hour = np.where(
            actor == 1, rng.uniform(0.0, 24.0, n), np.mod(rng.normal(4.0, 2.5, n), 24.0)
        )  # exporters and staff work Seoul office hours (UTC+9); buyers are everywhere
        hour = np.where(actor == 3, rng.uniform(0.0, 24.0, n), hour)
        start = day.astype("datetime64[ms]") + (hour * 3_600_000).astype(np.int64)
        order = np.argsort(start, kind="stable")
        actor, day, year, who, signed_in, start = (
            a[order] for a in (actor, day, year, who, signed_in, start)
        )
        post_of = np.full(n, -1, dtype=np.int64)  # which rating post a session carries
        post_of[np.argsort(order, kind="stable")[rated]] = posts
        focus = self._focus(rng, actor, who)
        sessions = _Sessions(actor, who, day, year, first_session + np.arange(n), focus, post_of)

        # ---- events: login (or landing) then browsing; rating sessions: login, list, rating
        browse = 1 + np.minimum(rng.geometric(1.0 / MEAN_BROWSE_EVENTS, n), 40)
        length = np.where(post_of >= 0, 3, browse)
        s = np.repeat(np.arange(n), length)
        position = np.arange(len(s)) - np.repeat(np.cumsum(length) - length, length)
        kind = np.asarray(BROWSE_TYPES)[rng.choice(4, size=len(s), p=BROWSE_SHARES)]
        kind = np.where(position == 0, np.where(signed_in[s], LOGIN, PAGE_VIEW), kind)
        is_rating_session = post_of[s] >= 0
        kind = np.where(is_rating_session & (position == 1), PAGE_VIEW, kind)
        kind = np.where(is_rating_session & (position == 2), RATING, kind)

        page_choice = rng.choice(len(_PAGES), size=len(s), p=_PAGE_SHARES)
        page_choice = np.where(~signed_in[s] & (page_choice >= 5), 0, page_choice)
        page_choice = np.where(is_rating_session & (position == 1), 6, page_choice)

        target = np.full(len(s), -1, dtype=np.int64)
        target_side = np.full(len(s), -1, dtype=np.int64)  # 0: an exporter, 1: a buyer
        score = np.zeros(len(s))
        views = np.flatnonzero(kind == PROFILE_VIEW)
        self._pick_profiles(rng, views, actor[s[views]], who[s[views]], focus[s[views]],
                            year[s[views]], target, target_side, score)  # fmt: skip
        rating_rows = np.flatnonzero(kind == RATING)
        post = post_of[s[rating_rows]]
        target_side[rating_rows] = 1 - self.ratings.side[post]
        target[rating_rows] = np.where(
            self.ratings.side[post] == 0, self.ratings.buyer[post], self.ratings.exporter[post]
        )

        gap = self._gaps(rng, kind)
        cum = np.cumsum(gap) - gap
        offset = cum - np.repeat(cum[np.cumsum(length) - length], length)
        # Sessions late on the last history day end by midnight: the history stops there.
        duration = (np.bincount(s, weights=gap, minlength=n) * 1000).astype(np.int64)
        end = (np.datetime64(HISTORY_END) + 1).astype("datetime64[ms]") - np.timedelta64(1, "ms")
        start = start - np.maximum(start + duration - end, 0).astype("timedelta64[ms]")
        moment = start[s] + (offset * 1000).astype(np.int64)

        # ---- follow-ups: saves and inquiries after profile views of signed-in firms
        firm_view = views[actor[s[views]] <= 1]
        extra_rows, extra_kind = [], []
        for follow, offset_param in (
            (SAVE, MATCHING.save_offset),
            (INQUIRY, MATCHING.inquiry_offset),
        ):
            hit = firm_view[rng.random(len(firm_view)) < sigmoid(score[firm_view] + offset_param)]
            extra_rows.append(hit)
            extra_kind.append(np.full(len(hit), follow))
        source = np.concatenate([np.arange(len(s)), *extra_rows])
        kind = np.concatenate([kind, *extra_kind])
        follow_up = np.arange(len(source)) >= len(s)
        # A save or an inquiry happens while the profile is open: saves early, inquiries late.
        share = np.where(kind == SAVE, rng.uniform(0.2, 0.5, len(source)),
                         rng.uniform(0.6, 0.95, len(source)))  # fmt: skip
        after = np.where(follow_up, (gap[source] * 1000 * share).astype(np.int64), 0)
        moment = moment[source] + after
        order = np.lexsort((kind, moment, s[source]))
        source, kind, moment = source[order], kind[order], moment[order]
        events = {
            "session": s[source],
            "kind": kind,
            "moment": moment,
            "dwell": np.where(follow_up[order], np.nan, gap[source]),
            "page": page_choice[source],
            "target": target[source],
            "target_side": target_side[source],
        }
        return self._columns(rng, sessions, events)

    def _focus(self, rng: np.random.Generator, actor: np.ndarray, who: np.ndarray) -> np.ndarray:
        """The catalogue product a session is about: mostly one the firm trades."""
        n = len(actor)
        anything = rng.integers(0, len(PRODUCTS), n)
        slot = rng.integers(0, 5, n)
        focus = anything.copy()
        for code, products in ((0, self.exporters.products), (1, self.buyers.products)):
            idx = np.flatnonzero((actor == code) & (rng.random(n) < 0.85))
            own = products[who[idx], np.minimum(slot[idx], products.shape[1] - 1)]
            own = np.where(own >= 0, own, products[who[idx], 0])
            focus[idx] = own
        return focus

    def _pick_profiles(
        self,
        rng: np.random.Generator,
        rows: np.ndarray,
        actor: np.ndarray,
        who: np.ndarray,
        focus: np.ndarray,
        year: np.ndarray,
        target: np.ndarray,
        target_side: np.ndarray,
        score: np.ndarray,
    ) -> None:
        """Profiles shown in the focus chapter; the user opens one with softmax(affinity)."""
        chapter = HS6_CODES[focus] // 10_000
        staff_on_buyers = (actor == 2) & (rng.random(len(actor)) < 0.3)
        wants_buyer = (actor == 0) | staff_on_buyers
        for side, pool in ((0, self.exporter_pool), (1, self.buyer_pool)):
            idx = np.flatnonzero(wants_buyer == bool(side))
            if not len(idx):
                continue
            shown = pool.shown(rng, chapter[idx], year[idx])
            flat = shown.ravel()
            market_year = year_index(np.repeat(year[idx] + YEARS[0], CANDIDATES))
            viewer = np.repeat(who[idx], CANDIDATES)
            kinds = np.repeat(actor[idx], CANDIDATES)
            if side == 0:  # looking at exporters
                scores = self.affinity.exporter_appeal(flat)
                by_buyer = kinds == 1
                scores[by_buyer] = self.affinity(
                    flat[by_buyer], viewer[by_buyer], market_year[by_buyer]
                )
            else:
                scores = self.affinity.buyer_appeal(flat)
                by_exporter = kinds == 0
                scores[by_exporter] = self.affinity(
                    viewer[by_exporter], flat[by_exporter], market_year[by_exporter]
                )
            scores = scores.reshape(shown.shape)
            pick = choose(rng, scores)[:, 0]
            target[rows[idx]] = shown[np.arange(len(idx)), pick]
            target_side[rows[idx]] = side
            score[rows[idx]] = scores[np.arange(len(idx)), pick]

    @staticmethod
    def _gaps(rng: np.random.Generator, kind: np.ndarray) -> np.ndarray:
        """Seconds until the next event: the dwell time on pages and profiles."""
        n = len(kind)
        page = np.clip(rng.lognormal(np.log(25.0), 1.0, n), 1.0, 3600.0)
        profile = np.clip(rng.lognormal(np.log(40.0), 0.9, n), 2.0, 3600.0)
        quick = rng.uniform(2.0, 20.0, n)
        gap = np.where(kind == PAGE_VIEW, page, np.where(kind == PROFILE_VIEW, profile, quick))
        out: np.ndarray = np.round(gap, 1)
        return out

    def _columns(
        self, rng: np.random.Generator, sessions: _Sessions, events: dict[str, np.ndarray]
    ) -> dict[str, list[Any]]:
        s, kind = events["session"], events["kind"]
        n = len(s)
        actor, who, year, post_of = sessions.actor, sessions.who, sessions.year, sessions.post
        # Session-level values, computed once per session and repeated per event. Browser
        # traits (cookie, consent, user agent) belong to the user; anonymous visitors get a
        # fresh cookie per session.
        key = np.where(
            actor == 3, (1 << 40) + sessions.number, actor * 10_000_000 + np.maximum(who, 0)
        )
        cookie_hash = mix64(key.astype(np.uint64), 0xC00C1E)
        consent_draw = (mix64(key.astype(np.uint64), 0xC0A5E7) % np.uint64(1000)).astype(np.int64)
        consent = np.where(actor == 3, consent_draw < CONSENT_ANONYMOUS * 1000,
                           consent_draw < CONSENT_SIGNED_IN * 1000)  # fmt: skip
        cookies = [f"{v:016x}" for v in cookie_hash.tolist()]
        session_ids = [
            f"s{v:016x}" for v in mix64(sessions.number.astype(np.uint64), 0x5E55).tolist()
        ]
        users: list[str | None] = []
        firms: list[str | None] = []
        for a, w in zip(actor.tolist(), who.tolist(), strict=True):
            if a == 0:
                users.append(f"UE{w:07d}")
                firms.append(self.exporter_ids[w])
            elif a == 1:
                users.append(f"UB{w:07d}")
                firms.append(self.buyer_ids[w])
            elif a == 2:
                users.append(f"US{w:04d}")
                firms.append(None)
            else:
                users.append(None)
                firms.append(None)
        agent_pick = (mix64(key.astype(np.uint64), 0xA6E47) % np.uint64(len(_AGENTS))).astype(
            np.int64
        )
        no_agent = rng.random(len(actor)) < 0.02
        agents = [
            None if missing else self.agents[a][y]
            for a, y, missing in zip(agent_pick.tolist(), year.tolist(), no_agent, strict=True)
        ]
        month = sessions.day.astype("datetime64[M]").astype(np.int64) % 12 + 1
        fair_pages = [
            f"/fairs/KCGF-{YEARS[0] + y}-{'S' if m < 8 else 'A'}"
            for y, m in zip(year.tolist(), month.tolist(), strict=True)
        ]
        # Event-level values
        session_list = s.tolist()
        kind_list = kind.tolist()
        focus = sessions.focus
        focus_chapter = (HS6_CODES[focus] // 10_000).tolist()
        target_list, side_list = events["target"].tolist(), events["target_side"].tolist()
        exporter_ch, buyer_ch = self.exporters.main_chapter, self.buyers.main_chapter
        pages: list[str] = []
        chapters: list[str | None] = []
        targets: list[str | None] = []
        keywords: list[str | None] = []
        ratings: list[float | None] = []
        dwell: list[float | None] = []
        choice_list, gap_list = events["page"].tolist(), events["dwell"].tolist()
        pii_draw = rng.random(n).tolist()
        word_draw = rng.integers(0, 1_000_000, size=(n, 2)).tolist()
        for i in range(n):
            k, sess = kind_list[i], session_list[i]
            chapter_text = f"{focus_chapter[sess]:02d}"
            page, chapter, tgt, keyword, rating, seconds = "/", None, None, None, None, None
            if k == LOGIN:
                page = "/login"
            elif k == PAGE_VIEW:
                base = _PAGES[choice_list[i]]
                if base == "/category":
                    page, chapter = f"/category/{chapter_text}", chapter_text
                elif base == "/fairs/current":
                    page = fair_pages[sess]
                else:
                    page = base
                seconds = gap_list[i]
            elif k == SEARCH:
                page, chapter = "/search", chapter_text
                keyword = self._keyword(rng, int(focus[sess]), word_draw[i], pii_draw[i])
            elif k == CLICK:
                page, chapter = f"/category/{chapter_text}", chapter_text
            else:
                t, side = target_list[i], side_list[i]
                tgt = self.exporter_ids[t] if side == 0 else self.buyer_ids[t]
                chapter = f"{(exporter_ch[t] if side == 0 else buyer_ch[t]):02d}"
                section = "exporters" if side == 0 else "buyers"
                if k == RATING:
                    page = "/my/matches"
                    rating = float(self.ratings.rating[post_of[sess]])
                elif k == INQUIRY:
                    page = f"/{section}/{tgt}/inquiry"
                else:
                    page = f"/{section}/{tgt}"
                    if k == PROFILE_VIEW:
                        seconds = gap_list[i]
            pages.append(page)
            chapters.append(chapter)
            targets.append(tgt)
            keywords.append(keyword)
            ratings.append(rating)
            dwell.append(seconds)
        referrers: list[str | None] = [None, *pages[:-1]]
        first_event = np.flatnonzero(np.diff(s, prepend=-1) != 0).tolist()
        for i in first_event:
            referrers[i] = None
        return {
            "event_id": uuids(rng, n),
            "event_time": utc_timestamps(events["moment"].astype("datetime64[ms]")),
            "event_type": np.array(EVENT_TYPES, dtype=object)[kind].tolist(),
            "user_id": [users[i] for i in session_list],
            "cookie_id": [cookies[i] for i in session_list],
            "cookie_consent": [bool(consent[i]) for i in session_list],
            "session_id": [session_ids[i] for i in session_list],
            "actor_type": np.array(ACTORS, dtype=object)[actor[s]].tolist(),
            "actor_firm_id": [firms[i] for i in session_list],
            "page": pages,
            "referrer_page": referrers,
            "dwell_seconds": dwell,
            "search_keyword": keywords,
            "target_id": targets,
            "hs_chapter": chapters,
            "rating": ratings,
            "user_agent": [agents[i] for i in session_list],
        }

    def _keyword(self, rng: np.random.Generator, product: int, draw: list[int], pii: float) -> str:
        vocabulary = self.vocabulary[int(SECTOR_OF_PRODUCT[product])]
        word = vocabulary[draw[0] % len(vocabulary)]
        if draw[1] % 10 < 3:
            word = f"{word} {_MODIFIERS[draw[1] % len(_MODIFIERS)]}"
        if pii < PII_IN_SEARCH:
            contact = people.random_phone(rng) if draw[1] % 2 else people.random_email(rng)
            word = f"{word} contact {contact}"
        return word
