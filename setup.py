"""Builds the C extension of the text detector; everything else is in pyproject.toml."""

from Cython.Build import cythonize
from setuptools import Extension, setup

setup(
    ext_modules=cythonize(
        [Extension("ocsea.text._ngram_scorer", ["src/ocsea/text/_ngram_scorer.pyx"])],
        compiler_directives={"language_level": "3"},
    )
)
