"""Typed per-environment settings: every difference between dev, prod and local lives here.

Plain dataclasses (no CDK import) so the CDK app, the local emulation and the CLI read the same
values. Logical resource names also come from here; physical names of buckets, streams and roles
are left to CloudFormation so several environments can share an account.
"""

from __future__ import annotations

from dataclasses import dataclass, field

DEFAULT_REGION = "ap-northeast-2"
PROJECT = "exportintel"


@dataclass(frozen=True, kw_only=True)
class FirehoseBuffering:
    """Firehose buffering hints: the larger, the fewer and bigger raw objects (cheaper to scan);
    the smaller, the fresher the lake. Dynamic partitioning requires at least 64 MiB."""

    size_mib: int = 64
    interval_seconds: int = 300


@dataclass(frozen=True, kw_only=True)
class CronSchedule:
    """An EventBridge cron expression in UTC (the fields of `events.Schedule.cron`).

    EventBridge evaluates rule schedules in UTC only; a provider's publication time in its
    own zone is converted by hand (and stated next to the value).
    """

    minute: str = "0"
    hour: str = "0"
    day: str | None = None  # day of month; None with `week_day` None means every day
    month: str = "*"
    week_day: str | None = None  # MON-FRI, SUN, ...; exclusive with `day`

    def expression(self) -> str:
        """The rule's `cron(...)` text, as CloudFormation receives it."""
        day = self.day if self.day is not None else ("?" if self.week_day else "*")
        week_day = self.week_day if self.week_day is not None else "?"
        return f"cron({self.minute} {self.hour} {day} {self.month} {week_day} *)"


def _collector_schedules() -> tuple[tuple[str, CronSchedule], ...]:
    """When each feed's collector runs (UTC), after its provider has published.

    The collector fetches the day before today in Seoul (`yesterday_in_seoul`): a run at
    15:00 UTC or later (midnight in Seoul) fetches the same UTC day, an earlier run the UTC
    day before. Keys are feed names of `exportintel.collectors.feeds.FEEDS`; the CDK unit
    refuses a feed without a schedule and a schedule without a feed.
    """
    return tuple(
        {
            # ECB reference rates appear around 16:00 CET (15:00 UTC in winter, 14:00 in summer)
            # on TARGET business days: 16:30 UTC fetches that day's fixing, Monday to Friday.
            "ecb_fx": CronSchedule(minute="30", hour="16", week_day="MON-FRI"),
            # EIA spot prices of a US trading day are out the next US morning: 14:00 UTC
            # (23:00 in Seoul) fetches the UTC day before, Tuesday to Saturday for Monday-Friday.
            "eia_oil": CronSchedule(minute="0", hour="14", week_day="TUE-SAT"),
            # Metal and commodity settlement prices close in London and New York in the
            # afternoon; 01:00 UTC fetches the trading day before, Tuesday to Saturday.
            "raw_materials": CronSchedule(minute="0", hour="1", week_day="TUE-SAT"),
            # Advisories are a snapshot of levels in force, taken every morning in Seoul (09:30).
            "mofa_travel_advisories": CronSchedule(minute="30", hour="0"),
            # Comtrade publishes yearly data months after the year ends: once a month is plenty,
            # and re-fetched rows are deduplicated when curated.
            "comtrade": CronSchedule(minute="0", hour="3", day="1"),
            # Grades are issued on Korean business days; 00:15 UTC (09:15 in Seoul) fetches the
            # day before, every day (weekends simply return nothing).
            "credit_evaluations": CronSchedule(minute="15", hour="0"),
        }.items()
    )


@dataclass(frozen=True, kw_only=True)
class PipelineSchedule:
    """A scheduled pipeline run: when (UTC), and what each model does (`exportintel.pipeline.
    graph.Mode` per model; models not named are skipped)."""

    name: str  # the rule's role, in its construct id and description
    cron: CronSchedule
    modes: tuple[tuple[str, str], ...]
    description: str = ""


def _pipeline_schedules() -> tuple[PipelineSchedule, ...]:
    """Matching retrained daily; continuity and markets re-scored monthly with the month's
    firm, trade and macro data, and retrained once a year when the previous year's export
    records are complete.

    The times keep runs apart (a run takes under two hours at the agency's scale): the daily
    run at 02:00 in Seoul, the continuity runs on the 2nd of the month at 06:00 in Seoul, the
    market runs an hour later. The yearly retraining replaces the April re-scoring (it
    re-scores too).
    """
    return (
        PipelineSchedule(
            name="matching-daily",
            cron=CronSchedule(minute="0", hour="17"),
            modes=(("matching", "train"),),
            description="Retrain and re-score the matching model every night",
        ),
        PipelineSchedule(
            name="continuity-monthly",
            cron=CronSchedule(minute="0", hour="21", day="1", month="1-3,5-12"),
            modes=(("continuity", "score"),),
            description="Re-score the continuity index with the month's data",
        ),
        PipelineSchedule(
            name="continuity-yearly",
            cron=CronSchedule(minute="0", hour="21", day="1", month="4"),
            modes=(("continuity", "train"),),
            description="Retrain the continuity model on the completed export year",
        ),
        PipelineSchedule(
            name="markets-monthly",
            cron=CronSchedule(minute="0", hour="22", day="1", month="1-3,5-12"),
            modes=(("markets", "score"),),
            description="Re-score the market suggestions with the month's data",
        ),
        PipelineSchedule(
            name="markets-yearly",
            cron=CronSchedule(minute="0", hour="22", day="1", month="4"),
            modes=(("markets", "train"),),
            description="Retrain the market model on the completed export year",
        ),
    )


@dataclass(frozen=True, kw_only=True)
class EnvironmentSettings:
    name: str  # "dev", "prod" or "local"
    region: str = DEFAULT_REGION
    account: str | None = None  # None: the account of the deploying credentials
    # Retain buckets, keys and tables on stack deletion (prod) or destroy them (dev).
    retain_data: bool = False
    raw_retention_days: int = 90
    curated_infrequent_access_after_days: int = 90
    noncurrent_version_retention_days: int = 30
    access_log_retention_days: int = 365
    athena_results_retention_days: int = 30
    # CloudWatch Logs retention of delivery-error logs; must be a value CloudWatch accepts.
    log_retention_days: int = 90
    athena_bytes_scanned_cutoff: int = 10 * 1024**3
    kinesis_shards: int = 1
    kinesis_retention_hours: int = 24
    clickstream_buffering: FirehoseBuffering = field(default_factory=FirehoseBuffering)
    # External feeds are small and infrequent: the maximum interval keeps object counts low.
    feeds_buffering: FirehoseBuffering = field(
        default_factory=lambda: FirehoseBuffering(size_mib=64, interval_seconds=900)
    )
    # Glue curation jobs (one per contract landing in raw): G.1X workers (4 vCPU, 16 GB).
    glue_worker_type: str = "G.1X"
    glue_workers: int = 2
    glue_timeout_minutes: int = 60
    # Collector Lambdas (one per external feed).
    # (feed name, schedule) pairs: a tuple keeps the settings hashable.
    collector_schedules: tuple[tuple[str, CronSchedule], ...] = field(
        default_factory=_collector_schedules
    )
    collector_timeout_seconds: int = 120
    collector_memory_mib: int = 256
    # At most one run of a feed at a time (providers rate-limit; runs are idempotent anyway).
    # None reserves nothing: new accounts' concurrency quota (10) leaves nothing to reserve.
    collector_reserved_concurrency: int | None = None
    # How long EventBridge and Lambda keep retrying a scheduled run before it goes to the DLQ.
    collector_max_event_age_hours: int = 6
    # Messages in the collectors' dead-letter queue are kept this long (SQS maximum: 14 days).
    dead_letter_retention_days: int = 14
    # Export continuity: firms whose index (probability of still exporting by T+2) is below
    # this form the risk group. With nine in ten exporters continuing, 0.5 would flag almost
    # nobody; 0.75 flags about one firm in ten, whose observed discontinuation rate is about
    # three times the base rate on held-out years of generated data (seed 7, small).
    continuity_risk_threshold: float = 0.75
    # Columns of continuity_features the model does not learn from: the region slices the
    # risk group, but "head office in Sejong" is no reason to give a firm (nor one it can act on).
    continuity_excluded_columns: tuple[str, ...] = ("region",)
    # Matching: candidates stored per firm (the pool fair exploration draws from), and the most
    # recommendations one call shows.
    matching_candidates: int = 100
    matching_shown: int = 10
    # How far the shown recommendations stray from the plain top (0: never; 1: drawn in
    # proportion to the score). Fair exposure across exporters against a little ranking quality:
    # the evaluation table of the matching model measures both.
    matching_explore: float = 0.3
    # Reasons (tree SHAP, the costly part of scoring) for the first ranks of every stored list
    # and for every pair drawn; the tail of a list is rarely shown.
    matching_explained_ranks: int = 20
    # Serving API (API Gateway REST API in front of the serving functions).
    # Stage throttling, requests per second and burst, for all callers together: the callers
    # are staff dashboards and a few agency systems, so this only stops a runaway client from
    # using up the functions' concurrency and the tables' on-demand capacity.
    api_throttle_rate: float = 20.0
    api_throttle_burst: int = 40
    # Requests per day of the API's usage plan. Usage plans meter only requests that carry an
    # API key, and the callers present Cognito tokens instead: the stage throttle above is the
    # limit that binds them; the plan is the place to give a system its own key and quota.
    api_daily_quota: int = 20_000
    # An API function reads or writes a few items; API Gateway gives up after 29 s anyway.
    api_timeout_seconds: int = 10
    # Reserved concurrency of each API function. None reserves nothing: new accounts'
    # concurrency quota (10) leaves nothing to reserve.
    api_reserved_concurrency: int | None = None
    # Where Cognito may send staff back after signing in and out (authorization code + PKCE).
    # A loopback redirect (RFC 8252) serves the dashboard run on a staff member's machine; the
    # dashboard's CloudFront address joins the list when that distribution exists.
    staff_callback_urls: tuple[str, ...] = ("http://localhost:8000/auth/callback",)
    staff_logout_urls: tuple[str, ...] = ("http://localhost:8000/",)
    # OAuth scopes (`exportintel.serving.functions.SCOPES` names) of the client other agency
    # systems use (client credentials): they read recommendations and send clickstream events;
    # saving, dismissing and feedback are staff actions.
    systems_client_scopes: tuple[str, ...] = ("read", "events")
    # Prefix of the Cognito sign-in domain (`<prefix>.auth.<region>.amazoncognito.com`), unique
    # among all AWS accounts in the region. None: `exportintel-<env>-` and a part of the
    # stack's id, which CloudFormation makes unique when it creates the stack.
    auth_domain_prefix: str | None = None
    # A CLOUDFRONT-scope WAF web ACL (its ARN; such ACLs live in us-east-1, outside these
    # stacks) for the dashboard's distribution, which also fronts the API under /api/*.
    # None: no web ACL (cdk-nag CFR2 acknowledged with that reason).
    dashboard_web_acl_arn: str | None = None
    # Live counters (the Lambda consuming the clickstream stream).
    # Records per invocation: one batch per shard at a time, so bigger batches keep up with
    # more traffic; counters are updated per record, so a batch stays well within the timeout.
    counters_batch_size: int = 100
    # Retries of a failing batch (halved each time, `bisect_batch_on_error`), then the record
    # goes to the counters' dead-letter queue. Retries are safe: the counters apply each event
    # once (a marker per event id).
    counters_retry_attempts: int = 3
    # Records older than this are sent to the dead-letter queue unprocessed: after an outage the
    # counters catch up on recent events instead of replaying the whole stream retention.
    # At most `kinesis_retention_hours`.
    counters_max_record_age_hours: int = 6
    counters_timeout_seconds: int = 60
    counters_memory_mib: int = 256
    # The pipeline (Step Functions): its schedules, and the quality gate's floors. A new model
    # version serves only if it beats its own run's naive baseline on held-out data and reaches
    # these floors; otherwise the run stops with an alert and the previous version keeps serving.
    pipeline_schedules: tuple[PipelineSchedule, ...] = field(default_factory=_pipeline_schedules)
    # Held-out AUC of the continuity model chosen (the naive rule reaches about 0.60).
    continuity_auc_floor: float = 0.65
    # Held-out NDCG@10 of the hybrid matching model, in each direction (popular: 0.003-0.02).
    matching_ndcg_floor: float = 0.02
    # Held-out hit@5 of the market model: the share of (firm, year) entries whose new
    # country was among the firm's top five. On generated data (bench/results/markets-*) the
    # model reaches about 0.78, the largest importers 0.72, the fastest-growing 0.13; it must
    # beat both baselines besides this floor.
    markets_hit_floor: float = 0.2
    # SageMaker jobs (the XGBoost 3.2-0 framework container runs every script).
    training_instance_type: str = "ml.m5.2xlarge"
    scoring_instance_type: str = "ml.m5.2xlarge"
    # The longest a training or scoring job may run before SageMaker stops it.
    sagemaker_max_runtime_hours: int = 6
    # EBS volume of a job (features, models and scores of one run fit many times over).
    sagemaker_volume_gib: int = 30
    # Hyperparameters passed to the training scripts on top of the ones settings already
    # decide (candidates, threshold, ...): (name, value) pairs, e.g. (("xgb-nthread", "8"),).
    matching_hyperparameters: tuple[tuple[str, str], ...] = ()
    continuity_hyperparameters: tuple[tuple[str, str], ...] = ()
    markets_hyperparameters: tuple[tuple[str, str], ...] = ()
    # Pipeline executions: a whole run may take this long before Step Functions stops it.
    pipeline_timeout_hours: int = 12

    def collector_schedule(self, feed: str) -> CronSchedule:
        schedules = dict(self.collector_schedules)
        if feed not in schedules:
            raise KeyError(f"no collector schedule for feed {feed!r} in {self.name} settings")
        return schedules[feed]

    @property
    def raw_database(self) -> str:
        return f"{PROJECT}_{self.name}_raw"

    @property
    def curated_database(self) -> str:
        return f"{PROJECT}_{self.name}_curated"

    @property
    def stage_id(self) -> str:
        return self.name.capitalize()


DEV = EnvironmentSettings(name="dev", raw_retention_days=30)
PROD = EnvironmentSettings(
    name="prod",
    retain_data=True,
    raw_retention_days=400,
    kinesis_shards=2,
    kinesis_retention_hours=168,
    athena_bytes_scanned_cutoff=100 * 1024**3,
    log_retention_days=365,
    glue_workers=10,
    glue_timeout_minutes=180,
    collector_reserved_concurrency=1,
    # Fair days bring bursts of clickstream batches from the fair site.
    api_throttle_rate=100.0,
    api_throttle_burst=200,
    api_daily_quota=500_000,
    # The stream keeps a week in prod: the counters may catch up on a day of backlog.
    counters_max_record_age_hours=24,
    training_instance_type="ml.m5.4xlarge",
    scoring_instance_type="ml.m5.4xlarge",
)
LOCAL = EnvironmentSettings(name="local")

ENVIRONMENTS: dict[str, EnvironmentSettings] = {s.name: s for s in (DEV, PROD)}
