"""The compliance check the campaign runs after approval and before any send.

`check_campaign` runs every configured content and plan rule that applies to the campaign's
recipients (jurisdiction), channels and providers, and returns the findings worst first.
"""

from __future__ import annotations

from compliance.config import ComplianceConfig, RuleSettings, load_config
from compliance.findings import Finding, Severity, Stage, worst_first
from compliance.outcome import Evaluation, RuleResult
from compliance.placed import Keyed, run_rule
from compliance.plan_stats import PlanStats
from compliance.registry import Rule, RuleContext, all_rules
from compliance.rules.plan import MinorParams
from models.spec import CampaignSpec

__all__ = [
    "CampaignSpec",
    "ComplianceConfig",
    "Evaluation",
    "Finding",
    "PlanStats",
    "Severity",
    "check_campaign",
    "check_content",
    "evaluate_campaign",
    "load_config",
    "minimum_age",
    "passed",
]

CAMPAIGN_STAGES = frozenset({Stage.CONTENT, Stage.PLAN})


def _scope(
    rule: Rule, settings: RuleSettings, spec: CampaignSpec, config: ComplianceConfig
) -> tuple[Keyed, ...] | None:
    """The contents a rule looks at, or None when it does not apply to this campaign."""
    scoped = tuple(
        (key, spec.content(*key))
        for key in spec.content_keys()
        if (rule.channels is None or key[0] in rule.channels)
        and (settings.channels is None or key[0] in settings.channels)
        and (settings.providers is None or config.channel(key[0]).provider in settings.providers)
    )
    narrowed = rule.channels is not None or settings.channels or settings.providers
    return None if narrowed and not scoped else scoped


def _not_applicable(
    rule: Rule, settings: RuleSettings | None, recipients: set[str], config: ComplianceConfig
) -> str | None:
    """Why a rule does not run for this campaign, or None when it runs (scope aside)."""
    if settings is None:
        return "not in the compliance configuration"
    if not settings.enabled:
        return "switched off in the compliance configuration"
    if rule.stage not in CAMPAIGN_STAGES:
        return f"acts at {rule.stage.value}, not in the campaign check"
    if settings.jurisdictions is not None and not recipients & config.countries(
        settings.jurisdictions
    ):
        return f"no recipient in {', '.join(settings.jurisdictions)}"
    return None


def evaluate_campaign(
    spec: CampaignSpec, plan: PlanStats, config: ComplianceConfig | None = None
) -> Evaluation:
    """Every registered rule's outcome for this campaign (pass, warn, review, block or not
    applicable, with why) and every finding, blocks first."""
    config = config or load_config()
    recipients = plan.jurisdictions() or {config.default_jurisdiction}
    findings: list[Finding] = []
    results: list[RuleResult] = []
    for rule_id, rule in sorted(all_rules().items()):
        settings = config.rules.get(rule_id)
        why = _not_applicable(rule, settings, recipients, config)
        scoped = None if why or settings is None else _scope(rule, settings, spec, config)
        if settings is None or why or scoped is None:
            results.append(RuleResult.not_applicable(rule, why or "no channel it covers"))
            continue
        ctx = RuleContext(
            rule=rule,
            spec=spec,
            plan=plan,
            config=config,
            params=config.params(rule_id),
            severity=rule.severity,
            channels=(),
        )
        found = run_rule(ctx, scoped)
        findings.extend(found)
        results.append(RuleResult.of(rule, found))
    return Evaluation(rules=results, findings=worst_first(findings))


def check_campaign(
    spec: CampaignSpec, plan: PlanStats, config: ComplianceConfig | None = None
) -> list[Finding]:
    """Every finding of the configured content and plan rules, blocks first."""
    return evaluate_campaign(spec, plan, config).findings


def passed(findings: list[Finding]) -> bool:
    """True when nothing blocks and nothing waits for review."""
    return all(f.severity is Severity.WARN for f in findings)


def minimum_age(config: ComplianceConfig | None = None) -> int:
    """The age below which the plan must count a customer as a minor (CN-26 `min_age`)."""
    config = config or load_config()
    if "CN-26" not in config.rules:
        return MinorParams().min_age
    params: MinorParams = config.params("CN-26")
    return params.min_age


def check_content(spec: CampaignSpec, config: ComplianceConfig | None = None) -> list[Finding]:
    """The content rules alone (templates, wording), before any audience is known: run when a
    campaign is started, so content they block never reaches an approver."""
    config = config or load_config()
    rules = all_rules()
    content = config.model_copy(
        update={
            "rules": {
                rule_id: s
                for rule_id, s in config.rules.items()
                if rules[rule_id].stage is Stage.CONTENT
            }
        }
    )
    return check_campaign(spec, PlanStats(), content)
