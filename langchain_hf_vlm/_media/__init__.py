"""Images, documents and videos on their way from LangChain content blocks to the request
body (private).

- ``refs``: :class:`~.refs.ImageRef`, the slot an image block leaves in the translated
  messages (it knows its message and block), and the JSON writer that splices each slot's
  parts into the body.
- ``settings``: the limits (:class:`~.settings.ImageSettings`) and the size they give an image.
- ``pipeline``: :class:`~.pipeline.ImagePipeline`, which prepares every ref of a request and
  checks the request size; ``cache``: its cache of prepared images.
- ``uris``: the one data-URI parser and the one http(s) URL check.
- ``fetch``: client-side downloads of image URLs.
- ``headers``: image type and size from the first bytes (no Pillow); ``mime``: media types
  sniffed from the bytes, never from a name or a claim.
- ``codec``: decoding, resizing and encoding with Pillow.

Documents, videos and text files:

- ``sources``: every block shape read into a :class:`~.sources.MediaSource`; ``detect``: types
  read from the bytes (and filled into blocks that lack one, for langchain-core).
- ``expand``: :class:`~.expand.MediaRef`, the slot such a block leaves, and its expansion at
  preparation time into labelled page and frame images (which join the request's images) and
  text; ``parts``: what a page or frame becomes.
- ``pdf``: pages rendered with pypdfium2 (the ``[pdf]`` extra); ``video``: frames sampled with
  PyAV (the ``[video]`` extra); ``text``: text files as text.
"""
