"""Reproduce published figures, and check published claims, against the data.

A *recipe* (a TOML file, format in ``reports/recipes/README.md``) names the data set
(registry id and release), the filters, what is counted (events, or the sum of a
fatality column), the grouping, the published numbers with where they were
published, a tolerance and a note on expected differences. :func:`reproduce`
recounts the figures from the data and sets them beside the published ones:

* a table, one row per published number: ``published``, ``reproduced``,
  ``abs_diff`` (reproduced - published), ``rel_diff`` (abs_diff / published),
  ``match`` (within the tolerance) and the row's ``status``;
* the coverage of the cells behind each row (:func:`trends.coverage_model.assess_window`);
* a verdict: ``reproduced exactly``, ``reproduced within tolerance``, ``differs`` or
  ``cannot be tested with this data`` (:data:`VERDICTS`, from :mod:`trends.verdicts`),
  with the reasons in plain sentences.

A published number the data cannot test (a quantity the data set does not record,
such as the wounded in UCDP; a period outside the data's coverage) is reported as
untested with the reason; it is never forced into a comparison.

The package follows the steps of a reproduction:

``recipe``     the TOML schema, parsing with errors naming the file and key, file lookup
``published``  the published numbers and claims, and where they were published
``recount``    the recount through :func:`trends.read` and :func:`trends.count`
``result``     :func:`reproduce`, the comparison with the tolerance, the verdict
``page``       the chart and the HTML page
"""

from __future__ import annotations

from ..verdicts import REPRODUCTION_VERDICTS as VERDICTS
from .recipe import Recipe, list_recipes, load_recipe
from .result import Reproduction, reproduce

__all__ = [
    "reproduce",
    "Reproduction",
    "Recipe",
    "load_recipe",
    "list_recipes",
    "VERDICTS",
]
