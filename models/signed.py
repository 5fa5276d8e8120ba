"""Signed statements as they travel: from the CLI through the workflow to the activity that
verifies them and the audit log that keeps them (`governance.signing` signs and checks)."""

from __future__ import annotations

import json
from datetime import datetime

from pydantic import BaseModel, Field


class Statement(BaseModel):
    """What a person signs: `kind` (approve, reject, compliance_ok, compliance_reject,
    role_grant, role_revoke, enroll, revoke_key) of `subject`, bound to `plan_digest`."""

    kind: str = Field(max_length=32)
    subject: str = Field(max_length=200)
    by: str = Field(max_length=100)
    at: datetime
    nonce: str = Field(min_length=16, max_length=64)
    plan_digest: str | None = Field(default=None, max_length=64)
    comment: str = Field(default="", max_length=2000)

    def canonical(self) -> str:
        return json.dumps(
            self.model_dump(mode="json"), sort_keys=True, ensure_ascii=False, separators=(",", ":")
        )


class Signed(BaseModel):
    """A statement as signed: its canonical text, the signature and the signing key's id."""

    statement: str = Field(max_length=4000)
    signature: str = Field(max_length=200)
    key_id: str = Field(max_length=32)

    def parsed(self) -> Statement:
        return Statement.model_validate_json(self.statement)
