"""Builds the C extensions (the text detector's, the PDQ index's query); everything else is in
pyproject.toml."""

from Cython.Build import cythonize
from setuptools import Extension, setup

setup(
    ext_modules=cythonize(
        [
            Extension(f"ocsea.text.{name}", [f"src/ocsea/text/{name}.pyx"])
            for name in ("_ngram_scorer", "_fast_normalize", "_fast_tokenize", "_fast_match")
        ]
        + [Extension("ocsea.match._pdq_query", ["src/ocsea/match/_pdq_query.pyx"])],
        compiler_directives={"language_level": "3"},
    )
)
