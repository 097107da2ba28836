"""The whole configuration of one stack, with the defaults that depend on the environment."""

from typing import Literal

from pydantic import ValidationInfo, model_validator

from settings.applications import DEFAULT_PROJECT, ApplicationSettings, DiscoverySettings, ProjectSettings, RepositorySettings
from settings.argocd import ArgoCDSettings
from settings.argocd_formats import ApplicationName
from settings.base import KubernetesName, Settings
from settings.cluster import ClusterSettings, KubeconfigCluster
from settings.dashboard import DashboardSettings, dashboard_problems
from settings.errors import KeyProblems, did_you_mean

Tier = Literal["local", "development", "staging", "production"]

_TIER_BY_STACK_NAME: dict[str, Tier] = {
    "local": "local",
    "stg": "staging",
    "staging": "staging",
    "prd": "production",
    "prod": "production",
    "production": "production",
}


def tier_for_stack(stack: str) -> Tier:
    return _TIER_BY_STACK_NAME.get(stack, "development")


class EnvironmentSettings(Settings):
    tier: Tier
    """local, development, staging or production; production gets HA and deletion protection."""


class PromotionSettings(Settings):
    source: KubernetesName | None = None
    """The stack whose tested revisions this stack accepts (stg: dev, prd: stg)."""


class DriftSettings(Settings):
    reconcile: Literal["auto", "confirm", "report"]
    """What `reconcile` does on drift: apply, apply only with --yes, or only report."""


class StackSettings(Settings):
    environment: EnvironmentSettings
    cluster: ClusterSettings = KubeconfigCluster()
    argocd: ArgoCDSettings = ArgoCDSettings()
    dashboard: DashboardSettings = DashboardSettings()
    promotion: PromotionSettings = PromotionSettings()
    drift: DriftSettings
    repositories: dict[KubernetesName, RepositorySettings] = {}
    projects: dict[KubernetesName, ProjectSettings] = {}
    applications: dict[ApplicationName, ApplicationSettings] = {}
    discovery: dict[KubernetesName, DiscoverySettings] = {}
    """Entries that make one Application per matching folder of a repository."""

    @model_validator(mode="before")
    @classmethod
    def _environment_defaults(cls, raw, info):
        if not isinstance(raw, dict):
            return raw
        stack = (info.context or {}).get("stack", "dev")
        raw = dict(raw)
        environment = raw.setdefault("environment", {})
        if isinstance(environment, dict) and "tier" not in environment:
            raw["environment"] = {**environment, "tier": tier_for_stack(stack)}
        tier = raw["environment"].get("tier") if isinstance(raw["environment"], dict) else None
        drift = raw.setdefault("drift", {})
        if isinstance(drift, dict) and "reconcile" not in drift:
            policy = {"production": "report", "staging": "confirm"}.get(tier, "auto") if isinstance(tier, str) else "auto"
            raw["drift"] = {**drift, "reconcile": policy}
        return raw

    @model_validator(mode="after")
    def _production_defaults(self):
        production = self.environment.tier == "production"
        argocd = self.argocd
        resolved = argocd.model_copy(
            update={
                "ha": production if argocd.ha is None else argocd.ha,
                "deletion_protection": production if argocd.deletion_protection is None else argocd.deletion_protection,
            }
        )
        object.__setattr__(self, "argocd", resolved)
        return self

    @model_validator(mode="after")
    def _keys_agree(self, info: ValidationInfo):
        """Checks across keys, each problem at the key to change."""
        problems = dashboard_problems(self.dashboard, self.cluster.kind, self.environment.tier)
        if self.argocd.sso and not self.dashboard.host:
            problems.append(("dashboard.host", "required key is missing: argocd.sso redirects to Argo CD's external URL"))
        known_projects = [*self.projects, DEFAULT_PROJECT]
        for name, repository in self.repositories.items():
            if repository.project is not None and repository.project not in known_projects:
                unknown = f'unknown project "{repository.project}"{did_you_mean(repository.project, known_projects)}'
                problems.append((f"repositories.{name}.project", unknown))
        context = info.context or {}
        source, known_stacks = self.promotion.source, context.get("known_stacks")
        if source is not None and known_stacks is not None and source not in known_stacks:
            unknown = f'no stack "{source}" has a stack file{did_you_mean(source, known_stacks, "stacks")}'
            problems.append(("promotion.source", unknown))
        if problems:
            raise KeyProblems(*problems)
        return self

    @property
    def production(self) -> bool:
        return self.environment.tier == "production"
