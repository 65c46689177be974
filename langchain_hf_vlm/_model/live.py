"""The chat model's live parts: where requests go, the image pipeline and the HTTP sender, made
from the fields' values on first use (and again after unpickling), and closed with the model.
A base class of the public one, so that the public module keeps to the entry points."""

from __future__ import annotations

from typing import Any, Self

from pydantic import PrivateAttr

from langchain_hf_vlm._media.pipeline import ImagePipeline
from langchain_hf_vlm._model.fields import ChatHuggingFaceVLMFields
from langchain_hf_vlm._servers.dialects import Endpoint, resolve_endpoint
from langchain_hf_vlm._wire.sender import ChatSender


class LiveParts(ChatHuggingFaceVLMFields):
    """The live parts of :class:`~langchain_hf_vlm.ChatHuggingFaceVLM` (not used on its own)."""

    _transport: ChatSender | None = PrivateAttr(default=None)
    _endpoint: Endpoint | None = PrivateAttr(default=None)
    _images: ImagePipeline | None = PrivateAttr(default=None)

    def _live(self, name: str) -> Any:
        """A private attribute's value, read straight from pydantic's dict of them."""
        return (self.__pydantic_private__ or {}).get(name)

    @property
    def _target(self) -> Endpoint:
        """Where requests go: URL, dialect, and whether it is a Hugging Face host."""
        # The private dict, not ``self._endpoint`` (pydantic's __getattr__, ~2 µs per read).
        endpoint: Endpoint | None = self._live("_endpoint")
        if endpoint is None:
            endpoint = resolve_endpoint(self.base_url, self.backend, self.wait_for_scale_up)
            self._endpoint = endpoint
        return endpoint

    @property
    def _pipeline(self) -> ImagePipeline:
        """The image pipeline: sizing, re-encoding, URL fetching and the request size guard."""
        images: ImagePipeline | None = self._live("_images")
        if images is None:
            images = ImagePipeline(self._image_settings(self._target), self._media_limits())
            self._images = images
        return images

    @property
    def _sender(self) -> ChatSender:
        transport: ChatSender | None = self._live("_transport")
        if transport is None:
            transport = self._new_sender()
            self._transport = transport
        return transport

    def close(self) -> None:
        """Close the synchronous connections the model opened (not ``http_client``)."""
        if self._transport is not None:
            self._transport.close()

    async def aclose(self) -> None:
        """Close the connections the model opened: the synchronous ones and this event loop's
        (not ``http_client`` or ``http_async_client``)."""
        if self._transport is not None:
            await self._transport.aclose()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.aclose()
