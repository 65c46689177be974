"""`make docs`: the API reference of the public modules, built from the docstrings by pdoc.

    python scripts/api_docs.py [OUTPUT]        # default: docs/_build (git-ignored)

Every warning is an error but one kind: pdoc evaluates each annotation in the module that
uses it, so a type imported only for type checking elsewhere (``Image`` in ``ImageSource``) or
from an extra not installed here (Ray Data, pyarrow) cannot be evaluated; pdoc then shows the
annotation as written, which is what a reader needs. A code fence left unrendered (pdoc turns
a reST ``.. code-block::`` inside a Google section into stray backticks) fails the build too:
write examples as fenced ``python`` blocks.
"""

from __future__ import annotations

import sys
import warnings
from pathlib import Path

import pdoc
import pdoc.render

REPO = Path(__file__).resolve().parent.parent
PUBLIC = ("chat_models", "errors", "images", "documents", "batch", "ray_data", "cli")
MODULES = ["langchain_hf_vlm", *(f"langchain_hf_vlm.{name}" for name in PUBLIC)]
UNEVALUATED = (
    r"(Error parsing type annotation .* Import of (Image|pa|BaseChatModel|Dataset) failed"
    r"|Failed to run TYPE_CHECKING code .* No module named '(pyarrow|ray)')"
)


def main() -> None:
    output = Path(sys.argv[1]) if len(sys.argv) > 1 else REPO / "docs" / "_build"
    pdoc.render.configure(docformat="google", search=True, show_source=False)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        warnings.filterwarnings("ignore", message=UNEVALUATED)
        pdoc.pdoc(*MODULES, output_directory=output)
    stray = [page.name for page in sorted(output.rglob("*.html")) if "<p>```" in page.read_text()]
    if stray:
        sys.exit(f"make docs: code fences left unrendered in {', '.join(stray)}")
    print(f"API reference: {output / 'index.html'}")


if __name__ == "__main__":
    main()
