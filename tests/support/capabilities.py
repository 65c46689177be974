"""The package's capability flags for LangChain's standard suites, in one place.

The unit suite, the real-server suite and the live-router suite all describe the same package;
what the tiny model or an offline machine cannot do is an xfail in that suite, not a flag.
"""

from __future__ import annotations


class VLMCapabilities:
    """Mixed in before ``ChatModelUnitTests`` / ``ChatModelIntegrationTests``."""

    @property
    def has_tool_calling(self) -> bool:
        return True

    @property
    def has_tool_choice(self) -> bool:
        return True

    @property
    def has_structured_output(self) -> bool:
        return True

    @property
    def supports_json_mode(self) -> bool:
        return True

    @property
    def supports_image_inputs(self) -> bool:
        return True

    @property
    def supports_image_urls(self) -> bool:
        return True

    @property
    def supports_image_tool_message(self) -> bool:
        return True

    @property
    def supports_anthropic_inputs(self) -> bool:
        return True

    @property
    def supports_pdf_inputs(self) -> bool:
        return True  # pages rendered to images on the client ([pdf] extra)

    @property
    def supports_pdf_tool_message(self) -> bool:
        return True

    @property
    def supports_video_inputs(self) -> bool:
        return True  # frames sampled on the client ([video] extra); the suite has no test

    @property
    def returns_usage_metadata(self) -> bool:
        return True
