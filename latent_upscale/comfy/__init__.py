"""The ComfyUI glue: the nodes (:mod:`.nodes`), and the one module that imports ComfyUI (:mod:`.host`).

Importing this package imports nothing of ComfyUI; :mod:`.nodes` does, through :mod:`.host`, and is
imported only by the repository's root ``__init__.py`` (the door ComfyUI opens). See ``README.md``
beside this file.
"""
