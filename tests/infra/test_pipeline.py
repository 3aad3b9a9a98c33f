"""The pipeline stack: a state machine that follows the step graph, guarded tasks, the quality
gate's failure path, the SageMaker jobs, schedules, topics, logs and cdk-nag."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import replace
from typing import Any

import pytest
from aws_cdk.assertions import Template

from exportintel.cloud.sagemaker_train import bundle_output_key, role_output_key
from exportintel.markets.data import INPUT_TABLES as MARKET_TABLES
from exportintel.pipeline import graph
from exportintel.pipeline.local import model_module
from exportintel.settings import DEV, PROD, EnvironmentSettings
from infra.etl import pascal
from infra.pipeline_graph import state_name
from infra.pipeline_stack import PipelineStack
from infra.pipeline_tasks import (
    MAX_PROCESSING_INPUTS,
    PROCESSING_JOB_SYNC,
    scoring_inputs,
    training_channels,
    training_hyperparameters,
)
from infra.stage import PlatformStage
from tests.infra.support import (
    SynthesisedApp,
    as_list,
    joined,
    logical_id,
    of_type,
    role_statements,
)

TOKEN = "<token>"


def _stack(synthesised: SynthesisedApp, settings: EnvironmentSettings) -> PipelineStack:
    stage = synthesised.app.node.find_child(settings.stage_id)
    assert isinstance(stage, PlatformStage)
    return stage.pipeline


@pytest.fixture(scope="module")
def template(synthesised: SynthesisedApp) -> Template:
    return Template.from_stack(_stack(synthesised, DEV))


@pytest.fixture(scope="module")
def definition(template: Template) -> dict[str, Any]:
    """The state machine's ASL, with every CloudFormation token replaced by `<token>`."""
    (machine,) = of_type(template, "AWS::StepFunctions::StateMachine").values()
    delimiter, parts = machine["Properties"]["DefinitionString"]["Fn::Join"]
    text = str(delimiter).join(part if isinstance(part, str) else TOKEN for part in parts)
    loaded: dict[str, Any] = json.loads(text)
    return loaded


def all_states(machine: dict[str, Any]) -> Iterator[tuple[str, dict[str, Any]]]:
    for name, state in machine["States"].items():
        yield name, state
        for branch in state.get("Branches", []):
            yield from all_states(branch)


def states_by_name(definition: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return dict(all_states(definition))


def depth_first(machine: dict[str, Any]) -> Iterator[str]:
    """State names in execution order: choices' branches before their default, a Parallel's
    branches in order before its next state, catch paths last."""
    seen: set[str] = set()

    def visit(name: str | None, states: dict[str, Any]) -> Iterator[str]:
        if name is None or name in seen:
            return
        seen.add(name)
        state = states[name]
        yield name
        for branch in state.get("Branches", []):
            yield from visit(branch["StartAt"], branch["States"])
        for choice in state.get("Choices", []):
            yield from visit(choice["Next"], states)
        yield from visit(state.get("Default"), states)
        yield from visit(state.get("Next"), states)
        for catch in state.get("Catch", []):
            yield from visit(catch["Next"], states)

    yield from visit(machine["StartAt"], machine["States"])


def path_from(states: dict[str, Any], start: str) -> list[dict[str, Any]]:
    """The states from `start` following `Next` to the end."""
    path = [states[start]]
    while "Next" in path[-1]:
        path.append(states[path[-1]["Next"]])
    return path


def is_sns_publish(state: dict[str, Any]) -> bool:
    return state["Type"] == "Task" and str(state["Resource"]).endswith(":::sns:publish")


# --- the graph -------------------------------------------------------------------------------


def test_a_task_state_for_every_step_in_the_graphs_order(definition: dict[str, Any]) -> None:
    """The test that compares the two orders: the local runner's and the state machine's."""
    expected = [state_name(step) for step in graph.steps()]
    states = states_by_name(definition)
    for name in expected:
        assert states[name]["Type"] == "Task", name
    ordered = [name for name in depth_first(definition) if name in set(expected)]
    assert ordered == expected


def test_curation_runs_side_by_side_and_the_models_too(definition: dict[str, Any]) -> None:
    states = definition["States"]
    assert definition["StartAt"] == "Prepare"
    assert states["Prepare"]["Next"] == "Curate"
    curate = states["Curate"]
    assert curate["Type"] == "Parallel"
    assert [b["StartAt"] for b in curate["Branches"]] == [
        state_name(graph.Step("curate", d)) for d in graph.curated_sources()
    ]
    assert curate["Next"] == "Models"
    assert len(states["Models"]["Branches"]) == len(graph.MODELS)


def test_prepare_checks_the_modes_and_makes_the_run_id(definition: dict[str, Any]) -> None:
    prepare = definition["States"]["Prepare"]
    payload = prepare["Parameters"]
    assert payload["action"] == "prepare"
    assert payload["run_id.$"] == "$$.Execution.Name"
    assert payload["input.$"] == "$"
    assert prepare["ResultPath"] == "$"


def test_steps_of_a_model_run_only_in_their_modes(definition: dict[str, Any]) -> None:
    states = states_by_name(definition)
    for step in graph.steps():
        if step.model is None:
            continue
        choice = states[f"Should{state_name(step)}"]
        assert choice["Type"] == "Choice"
        conditions = choice["Choices"][0]
        wanted = conditions.get("Or", [conditions])
        assert {c["StringEquals"] for c in wanted} == set(step.runs_when)
        assert {c["Variable"] for c in wanted} == {f"$.modes.{step.model}"}
        assert conditions["Next"] in (state_name(step), f"Current{pascal(step.target)}")
        # A skipped step goes on to the state after it (or ends the branch).
        skip = states[choice["Default"]]
        assert skip["Type"] == "Pass" and choice["Default"] == f"Skip{state_name(step)}"
        assert ("Next" in skip) != skip.get("End", False)


def test_curation_and_derivation_are_synchronous_glue_runs(definition: dict[str, Any]) -> None:
    states = states_by_name(definition)
    for step in graph.steps():
        if step.kind not in ("curate", "derive"):
            continue
        state = states[state_name(step)]
        assert state["Resource"].endswith(":::glue:startJobRun.sync"), step.name
        if step.kind == "curate":
            assert state["Parameters"]["Arguments"] == {"--run-id.$": "$.run_id"}


# --- guarded tasks ---------------------------------------------------------------------------


def test_every_task_retries_transient_errors_and_alerts_before_failing(
    definition: dict[str, Any],
) -> None:
    states = states_by_name(definition)
    tasks = {n: s for n, s in states.items() if s["Type"] == "Task"}
    assert len(tasks) > len(list(graph.steps()))
    for name, task in tasks.items():
        (retry, *_) = task["Retry"]
        assert "States.ALL" not in retry["ErrorEquals"] and retry["JitterStrategy"] == "FULL"
        assert retry["BackoffRate"] > 1, name
        (catch,) = task["Catch"]
        assert catch["ErrorEquals"] == ["States.ALL"], name
        if is_sns_publish(task):
            # An alert that cannot be sent still ends the run.
            assert states[catch["Next"]]["Type"] == "Fail", name
            continue
        path = path_from(states, catch["Next"])
        assert is_sns_publish(path[0]), name
        assert path[-1]["Type"] == "Fail", name
        message = path[0]["Parameters"]["Message"]
        assert message["step"] == name
        assert message["error.$"] == "$.error.Error" and message["cause.$"] == "$.error.Cause"


def test_failure_states_are_per_branch(definition: dict[str, Any]) -> None:
    """States cannot be shared across Parallel branches: each step has its own."""
    names = [name for name, _ in all_states(definition)]
    assert len(names) == len(set(names))


@pytest.mark.parametrize("model", graph.MODELS)
def test_a_failed_gate_alerts_and_fails_the_run_and_only_the_gate_promotes(
    definition: dict[str, Any], model: str
) -> None:
    states = states_by_name(definition)
    gate = states[f"Gate{pascal(model)}"]
    assert gate["Parameters"]["action"] == "gate"
    assert gate["Parameters"]["version.$"] == "$.training.version"
    assert gate["Parameters"]["model_uri.$"] == "$.training.model_uri"
    verdict = states[gate["Next"]]
    assert verdict["Type"] == "Choice"
    (rejected,) = verdict["Choices"]
    assert rejected == {
        "Variable": "$.gate.passed",
        "BooleanEquals": False,
        "Next": f"Notify{pascal(model)}GateFailed",
    }
    notify, fail = path_from(states, rejected["Next"])
    assert is_sns_publish(notify)
    assert notify["Parameters"]["Message"]["failures.$"] == "$.gate.failures"
    assert fail == states[f"{pascal(model)}GateFailed"]
    assert fail["Type"] == "Fail" and fail["Error"] == "QualityGateFailed"
    passed = states[verdict["Default"]]
    assert verdict["Default"] == f"{pascal(model)}GatePassed"
    assert passed["Next"] == f"Should{state_name(graph.Step('score', model))}"


# --- SageMaker -------------------------------------------------------------------------------


@pytest.mark.parametrize("model", graph.MODELS)
def test_training_runs_the_bundle_in_script_mode_with_the_settings_arguments(
    definition: dict[str, Any], model: str
) -> None:
    job = states_by_name(definition)[f"Train{pascal(model)}"]
    assert job["Resource"].endswith(":::sagemaker:createTrainingJob.sync")
    parameters = job["Parameters"]
    assert parameters["AlgorithmSpecification"]["TrainingImage"].endswith(
        "/sagemaker-xgboost:3.2-0"
    )
    hyper = parameters["HyperParameters"]
    assert hyper["sagemaker_program"] == "train.py"
    assert hyper["sagemaker_submit_directory"] == TOKEN  # the bundle asset's S3 URL
    assert hyper["sagemaker_region"] == DEV.region
    arguments = model_module(model).training_arguments(DEV)
    for flag, value in zip(arguments[::2], arguments[1::2], strict=True):
        assert hyper[flag[2:]] == value
    channels = {c["ChannelName"]: c["DataSource"]["S3DataSource"]["S3Uri"]
                for c in parameters["InputDataConfig"]}  # fmt: skip
    if model == "continuity":
        assert channels == {"train": f"s3://{TOKEN}/continuity_features/"}
    elif model == "matching":
        assert channels == {t: f"s3://{TOKEN}/{t}/" for t in
                            ("interactions", "matching_exporters", "matching_buyers")}  # fmt: skip
        assert hyper["train"] == "/opt/ml/input/data"
        assert hyper["interactions-file"] == "interactions"
    else:
        # One channel per curated table, named after it: the script's SM_CHANNEL_<TABLE>.
        assert channels == {t: f"s3://{TOKEN}/{t}/" for t in MARKET_TABLES}
    assert parameters["OutputDataConfig"]["S3OutputPath"] == f"s3://{TOKEN}/models/{model}/"
    assert parameters["TrainingJobName.$"] == f"States.Format('{model}-{{}}', $.run_id)"
    assert parameters["ResourceConfig"]["InstanceType"] == DEV.training_instance_type
    assert parameters["ResourceConfig"]["VolumeSizeInGB"] == DEV.sagemaker_volume_gib
    assert parameters["ResourceConfig"]["VolumeKmsKeyId"] == TOKEN
    assert parameters["StoppingCondition"]["MaxRuntimeInSeconds"] == (
        DEV.sagemaker_max_runtime_hours * 3600
    )


@pytest.mark.parametrize("model", graph.MODELS)
def test_scoring_and_loading_are_processing_jobs_over_the_current_version(
    definition: dict[str, Any], model: str
) -> None:
    states = states_by_name(definition)
    current = states[f"Current{pascal(model)}"]
    assert current["Parameters"]["action"] == "current"
    assert current["Next"] == f"Score{pascal(model)}"
    score = states[f"Score{pascal(model)}"]
    load = states[f"Load{pascal(model)}"]
    for job, script in ((score, "score.py"), (load, "load.py")):
        assert job["Resource"] == PROCESSING_JOB_SYNC
        app = job["Parameters"]["AppSpecification"]
        assert app["ContainerEntrypoint"][:2] == ["bash", "-c"]
        assert "--no-index --find-links wheels -r requirements.txt" in app["ContainerEntrypoint"][2]
        assert app["ContainerEntrypoint"][3] == script
        inputs = {i["InputName"]: i["S3Input"] for i in job["Parameters"]["ProcessingInputs"]}
        assert inputs["code"]["LocalPath"] == "/opt/ml/processing/input/code"
    score_arguments = score["Parameters"]["AppSpecification"]["ContainerArguments"]
    assert score_arguments[:2] == ["--model-dir", "/opt/ml/processing/input/model"]
    assert ("--score" in score_arguments) == (model == "continuity")
    outputs = score["Parameters"]["ProcessingOutputConfig"]["Outputs"]
    assert outputs[0]["S3Output"]["S3Uri.$"] == "$.current.scores_uri"
    load_arguments = load["Parameters"]["AppSpecification"]["ContainerArguments.$"]
    for fragment in ("'--model-version', $.current.version", "'--run-id', $.run_id",
                     "'--environment', 'dev'", "'--continuity-table'",
                     "'--markets-table'"):  # fmt: skip
        assert fragment in load_arguments
    for job in (score, load):
        assert len(job["Parameters"]["ProcessingInputs"]) <= MAX_PROCESSING_INPUTS


def test_market_scoring_gets_each_table_as_an_input_and_an_argument(
    definition: dict[str, Any],
) -> None:
    score = states_by_name(definition)["ScoreMarkets"]["Parameters"]
    inputs = {i["InputName"]: i["S3Input"] for i in score["ProcessingInputs"]}
    assert list(inputs) == ["code", "model", *MARKET_TABLES]
    assert inputs["model"]["S3Uri.$"] == "$.current.model_uri"
    arguments = score["AppSpecification"]["ContainerArguments"]
    given = dict(zip(arguments[::2], arguments[1::2], strict=True))
    for table in MARKET_TABLES:
        folder = f"/opt/ml/processing/input/{table}"
        assert inputs[table]["S3Uri"] == f"s3://{TOKEN}/{table}/"
        assert inputs[table]["LocalPath"] == folder
        assert given[f"--{table.replace('_', '-')}"] == folder
    assert given["--output-dir"] == "/opt/ml/processing/output"
    assert "--score" not in given


def test_the_market_branch_runs_its_four_steps_in_order(definition: dict[str, Any]) -> None:
    (branch,) = [
        b for b in definition["States"]["Models"]["Branches"] if b["StartAt"].endswith("Markets")
    ]
    tasks = [n for n in depth_first(branch) if branch["States"][n]["Type"] == "Task"]
    main_path = [n for n in tasks if not n.startswith("Notify")]
    assert main_path == ["TrainMarkets", "GateMarkets", "CurrentMarkets", "ScoreMarkets",
                         "LoadMarkets"]  # fmt: skip
    assert not any(name.startswith(("Derive", "Alert")) for name in branch["States"])


def test_each_models_settings_hyperparameters_reach_its_training_only() -> None:
    settings = replace(DEV, markets_hyperparameters=(("l2", "0.5"),))
    markets = training_hyperparameters("markets", settings, "s3://bundles/markets.tar.gz")
    assert markets["l2"] == "0.5" and markets["test-years"] == "3"
    for model in ("continuity", "matching"):
        assert "l2" not in training_hyperparameters(model, settings, "s3://bundles/x.tar.gz")


def test_a_model_without_its_jobs_declared_is_refused_not_run_as_another() -> None:
    for declared in (training_channels, scoring_inputs):
        with pytest.raises((KeyError, ValueError)):
            declared("pricing")
    with pytest.raises(ValueError, match="no model 'pricing'"):
        training_hyperparameters("pricing", DEV, "s3://bundles/x.tar.gz")


# --- the SageMaker roles ---------------------------------------------------------------------


def _object_grants(statements: list[dict[str, Any]], action: str) -> set[str]:
    """The object ARNs (flattened) of the statements allowing `action`."""
    return {
        joined(r)
        for s in statements
        if action in as_list(s["Action"])
        for r in as_list(s["Resource"])
        if joined(r).endswith("/*")
    }


def test_the_market_role_reaches_only_its_tables_models_and_serving_table(
    synthesised: SynthesisedApp, template: Template
) -> None:
    stack = _stack(synthesised, DEV)
    statements = role_statements(template, logical_id(stack, stack.training.roles["markets"]))
    readable = _object_grants(statements, "s3:GetObject*")
    for table in (*MARKET_TABLES, "market_suggestions"):
        assert any(arn.endswith(f"/{table}/*") for arn in readable), table
    for other in ("continuity_features", "continuity_index", "recommendations", "interactions"):
        assert not any(f"/{other}/" in arn for arn in readable), other
    deletable = _object_grants(statements, "s3:DeleteObject*")
    suffixes = sorted(arn.rsplit("/", 2)[-2] for arn in deletable)
    assert suffixes == ["market_suggestions", "markets"]  # the table and models/markets/*
    assert any(arn.endswith("/models/markets/*") for arn in deletable)
    assert not any("pipeline-runs" in joined(r) for s in statements for r in as_list(s["Resource"]))
    written = {
        json.dumps(r)
        for s in statements
        if "dynamodb:BatchWriteItem" in as_list(s["Action"])
        for r in as_list(s["Resource"])
    }
    assert written and all("MarketsTable" in arn for arn in written)


# --- schedules, topics, logs -----------------------------------------------------------------


def test_one_rule_per_schedule_with_its_modes_and_a_dead_letter_queue(
    template: Template,
) -> None:
    rules = of_type(template, "AWS::Events::Rule")
    assert len(rules) == len(DEV.pipeline_schedules)
    by_cron = {r["Properties"]["ScheduleExpression"]: r["Properties"] for r in rules.values()}
    queues = of_type(template, "AWS::SQS::Queue")
    (queue_id,) = queues
    for schedule in DEV.pipeline_schedules:
        rule = by_cron[schedule.cron.expression()]
        (target,) = rule["Targets"]
        assert json.loads(target["Input"]) == {"modes": dict(schedule.modes)}
        assert target["DeadLetterConfig"]["Arn"] == {"Fn::GetAtt": [queue_id, "Arn"]}
        assert target["RetryPolicy"]["MaximumRetryAttempts"] > 0
    (queue,) = queues.values()
    assert "KmsMasterKeyId" in queue["Properties"]


def test_the_market_model_is_rescored_monthly_and_retrained_in_april_after_continuity() -> None:
    schedules = {s.name: s for s in DEV.pipeline_schedules}
    monthly, yearly = schedules["markets-monthly"], schedules["markets-yearly"]
    assert dict(monthly.modes) == {"markets": "score"}
    assert dict(yearly.modes) == {"markets": "train"}
    for markets, continuity in ((monthly, schedules["continuity-monthly"]),
                                (yearly, schedules["continuity-yearly"])):  # fmt: skip
        later = replace(continuity.cron, hour=str(int(continuity.cron.hour) + 1))
        assert markets.cron == later


def test_topics_are_encrypted_and_refuse_plain_http(template: Template) -> None:
    topics = of_type(template, "AWS::SNS::Topic")
    assert len(topics) == 2
    for topic in topics.values():
        assert "KmsMasterKeyId" in topic["Properties"]
    policies = of_type(template, "AWS::SNS::TopicPolicy")
    denied = [
        s
        for p in policies.values()
        for s in p["Properties"]["PolicyDocument"]["Statement"]
        if s["Effect"] == "Deny" and s["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}
    ]
    assert len(denied) == 2


def test_outputs_name_the_topics_for_the_cli(template: Template) -> None:
    outputs = template.to_json()["Outputs"]
    expected = {
        "RiskChangesTopicArn",
        "PipelineAlertsTopicArn",
        "PipelineStateMachineArn",
        "XgboostImageUri",
        role_output_key("continuity"),
        bundle_output_key("matching"),
        role_output_key("markets"),
        bundle_output_key("markets"),
    }
    assert expected <= set(outputs)


@pytest.mark.parametrize("settings", [DEV, PROD], ids=["dev", "prod"])
def test_logging_tracing_and_timeout(
    synthesised: SynthesisedApp, settings: EnvironmentSettings
) -> None:
    template = Template.from_stack(_stack(synthesised, settings))
    (machine,) = of_type(template, "AWS::StepFunctions::StateMachine").values()
    props = machine["Properties"]
    assert props["TracingConfiguration"] == {"Enabled": True}
    assert props["LoggingConfiguration"]["Level"] == "ALL"
    assert props["StateMachineType"] == "STANDARD"
    (destination,) = props["LoggingConfiguration"]["Destinations"]
    log_group_id = destination["CloudWatchLogsLogGroup"]["LogGroupArn"]["Fn::GetAtt"][0]
    log_group = of_type(template, "AWS::Logs::LogGroup")[log_group_id]["Properties"]
    assert "KmsKeyId" in log_group
    assert log_group["RetentionInDays"] == settings.log_retention_days
    assert props["DefinitionString"]  # the timeout is in the definition (below)


def test_definition_timeout(definition: dict[str, Any]) -> None:
    assert definition["TimeoutSeconds"] == DEV.pipeline_timeout_hours * 3600


def test_the_synthesised_app_is_nag_clean(synthesised: SynthesisedApp) -> None:
    """cdk-nag runs as a validation plugin over every stack, this one included."""
    assert synthesised.error is None, str(synthesised.error)
    report = json.loads((synthesised.outdir / "validation-report.json").read_text())
    violations = [v for plugin in report["pluginReports"] for v in plugin["violations"]]
    assert violations == []
