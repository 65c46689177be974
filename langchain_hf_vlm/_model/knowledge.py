"""What the chat model knows of the model it serves: LangChain's profile (``llm.profile``),
refreshed from the server on request (sync and async share all but the GET), and token counts.
A base class of the public one, between it and its fields, so that the public module keeps to
the entry points and the lifecycle.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from langchain_core.language_models import ModelProfile
from langchain_core.messages import BaseMessage
from pydantic import PrivateAttr

from langchain_hf_vlm._families import refresh
from langchain_hf_vlm._families.profiles import profile_for
from langchain_hf_vlm._families.table import DEFAULT, family_for
from langchain_hf_vlm._model import counting
from langchain_hf_vlm._model.live import LiveParts
from langchain_hf_vlm._request import prepare as _request
from langchain_hf_vlm._servers.dialects import resolve_endpoint
from langchain_hf_vlm._servers.probes import aget_json, aidentify, get_json, identify


class ModelKnowledge(LiveParts):
    """Profile and token counting of :class:`~langchain_hf_vlm.ChatHuggingFaceVLM` (not used
    on its own)."""

    _profile_refreshed: bool = PrivateAttr(default=False)

    def _resolve_model_profile(self) -> ModelProfile | None:
        # Runs while the model is validated, before its endpoint is kept: resolved here again
        # (pure, and once per model).
        endpoint = resolve_endpoint(self.base_url, self.backend, self.wait_for_scale_up)
        return profile_for(self._family(), self.model, endpoint.dialect)

    def get_num_tokens(self, text: str) -> int:
        """Tokens of ``text``: by ``custom_get_token_ids`` if set, otherwise estimated (a token
        per four ASCII characters, one per other character; no tokenizer is downloaded)."""
        return self._counter().text(text)

    def get_num_tokens_from_messages(
        self, messages: list[BaseMessage], tools: Sequence[Any] | None = None
    ) -> int:
        """Tokens of a request holding ``messages`` and ``tools``: text as
        :meth:`get_num_tokens`, chat framing, and each image by the model family's formula at
        the size the package sends it (see ``docs/models.md``)."""
        return self._counter().messages(messages, tools)

    def refresh_profile(self, *, force: bool = False) -> ModelProfile | None:
        """Read what the server says about the model into ``profile``: the context vLLM
        (``/v1/models``) or TGI (``/info``) enforces; on the router (``/v1/models/<id>``), the
        context, tools and structured output of the chosen provider (of every live one under a
        policy). A server that says nothing (``transformers serve``) leaves it as it is. One
        GET per model: later calls return the profile read, unless ``force``.

        On vLLM, a model whose name matches no family (``--served-model-name``) gets the
        family of the path the server loaded (its ``root``), unless ``model_family`` is set:
        profile, counts, rules and image grid follow it.

        Returns:
            The profile, as ``llm.profile`` now holds it.
        """
        if self._profile_refreshed and not force:
            return self.profile
        headers = _request.probe_headers(self._request_settings(), self._target)
        if not self._target.dialect_known:
            self._endpoint = identify(self._sender, self._target, headers)
        url = refresh.route(self._target, self.model)
        return self._refreshed(None if url is None else get_json(self._sender, url, headers))

    async def arefresh_profile(self, *, force: bool = False) -> ModelProfile | None:
        """Async twin of :meth:`refresh_profile`."""
        if self._profile_refreshed and not force:
            return self.profile
        headers = _request.probe_headers(self._request_settings(), self._target)
        if not self._target.dialect_known:
            self._endpoint = await aidentify(self._sender, self._target, headers)
        url = refresh.route(self._target, self.model)
        answer = None if url is None else await aget_json(self._sender, url, headers)
        return self._refreshed(answer)

    def _refreshed(self, answer: object) -> ModelProfile | None:
        profile = self.profile or {}
        root = refresh.served_root(self._target, self.model, answer)
        if root is not None and self.model_family is None and self._family() is DEFAULT:
            served = family_for(root)
            if served is not DEFAULT:
                untouched = profile == self._resolve_model_profile()  # not the user's profile=
                self._served_family = served.name
                self._images = None  # made again with the family's grid and detail budgets
                if untouched:
                    profile = self._resolve_model_profile() or {}
        self.profile = refresh.refreshed(profile, self._target, self.model, self.provider, answer)
        self._profile_refreshed = True
        return self.profile

    def _counter(self) -> counting.TokenCounter:
        return counting.TokenCounter(
            family=self._family(),
            images=self._pipeline.settings,
            token_ids=self.custom_get_token_ids,
            video_max_frames=self.video_max_frames,
            pdf_max_pages=self.pdf_max_pages,
        )
