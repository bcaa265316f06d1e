"""data/sample_recipe.toml is the true recipe of the bundled sample."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest

from tests.data.helpers import stored_bars
from tradecore.secmaster import Recipe, SecmasterError, build_sample, load_recipe

RECIPE = Path(__file__).resolve().parents[2] / "data" / "sample_recipe.toml"


def test_the_recipe_file_states_the_built_in_recipe() -> None:
    assert load_recipe(RECIPE) == Recipe()


def test_building_from_the_recipe_file_gives_the_sample(sample_secmaster, tmp_path) -> None:
    built = tmp_path / "from_recipe.db"
    build_sample(built, recipe=load_recipe(RECIPE))
    assert stored_bars(built) == stored_bars(sample_secmaster)


def test_a_changed_recipe_changes_the_bars(tmp_path) -> None:
    recipe = load_recipe(RECIPE)
    small = replace(recipe, daily_start="2024-12-02", minute_symbols=(),
                    profiles=recipe.profiles[:1])
    other = replace(small, seed=7)
    build_sample(tmp_path / "a.db", recipe=small)
    build_sample(tmp_path / "b.db", recipe=other)
    a, b = stored_bars(tmp_path / "a.db"), stored_bars(tmp_path / "b.db")
    assert [row[:3] for row in a] == [row[:3] for row in b] and len(a) == 22
    assert a != b


def test_a_broken_recipe_is_a_clear_error(tmp_path) -> None:
    path = tmp_path / "r.toml"
    path.write_text("seed = 1\n")
    with pytest.raises(SecmasterError, match="cannot read the sample recipe"):
        load_recipe(path)
