"""The optional LLM pass: Anthropic explains and ranks the heuristic findings, grounded in the snapshot.

`run_analysis` and `answer_followup` are all a caller needs; `llm_skip_reason` says beforehand
whether the pass can run at all.
"""

from halo_local.llm.agent import LlmResult, answer_followup, run_analysis
from halo_local.llm.client import LlmCancelled, LlmContextTooLong, LlmError
from halo_local.llm.models import ModelInfo, default_model_id, llm_skip_reason, model_catalog, resolve_model_id
from halo_local.llm.submission import IssueNote

__all__ = [
    "IssueNote",
    "LlmCancelled",
    "LlmContextTooLong",
    "LlmError",
    "LlmResult",
    "ModelInfo",
    "answer_followup",
    "default_model_id",
    "llm_skip_reason",
    "model_catalog",
    "resolve_model_id",
    "run_analysis",
]
