"""Loading eval cases from YAML files, and building the world seed a case asks for."""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import yaml
from pydantic import ValidationError

from evals.models import Case, WorldSpec
from sandbox.seed import Seed, SeedOrder, SeedProduct, load_seed

CASES_DIR = Path(__file__).parent / "cases"


@dataclass(frozen=True)
class LoadedCase:
    case: Case
    path: Path


def case_files(paths: Iterable[Path]) -> list[Path]:
    files: list[Path] = []
    for path in paths:
        if path.is_dir():
            files.extend(sorted(p for p in path.rglob("*") if p.suffix in (".yaml", ".yml")))
        elif path.is_file():
            files.append(path)
        else:
            raise FileNotFoundError(f"No case file or folder at {path}")
    return files


# `shopper: where is #1001?` is YAML for "where is": ` #` starts a comment. Such text must be quoted.
_CUT_BY_COMMENT = re.compile(r"^\s*(?:-\s+)?(?:shopper|human_reply|description):\s+[^\s\"'|>].*?\s#")


def load_case_file(path: Path) -> list[LoadedCase]:
    text = path.read_text(encoding="utf-8")
    for number, line in enumerate(text.splitlines(), start=1):
        if _CUT_BY_COMMENT.match(line):
            raise ValueError(f"{path}:{number}: quote this text: YAML reads ' #' as the start of a comment")
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise ValueError(f"{path}: not valid YAML: {exc}") from exc
    items = data if isinstance(data, list) else [data]
    cases: list[Case] = []
    for number, item in enumerate(items, start=1):
        try:
            cases.append(Case.model_validate(item))
        except ValidationError as exc:
            name = item.get("id") if isinstance(item, dict) else None
            raise ValueError(f"{path}: case {number} ({name or 'no id'}): {exc}") from exc
    return [LoadedCase(case, path) for case in cases]


def load_cases(paths: Sequence[Path] = ()) -> list[LoadedCase]:
    """Every case under `paths` (the built-in suite when empty); ids must be unique."""
    loaded: list[LoadedCase] = []
    for path in case_files(paths or [CASES_DIR]):
        loaded.extend(load_case_file(path))
    seen: dict[str, Path] = {}
    for item in loaded:
        if item.case.id in seen:
            raise ValueError(f"case id {item.case.id!r} is in both {seen[item.case.id]} and {item.path}")
        seen[item.case.id] = item.path
    return loaded


def select(
    cases: Sequence[LoadedCase], tags: Sequence[str] = (), ids: Sequence[str] = ()
) -> list[LoadedCase]:
    """Cases carrying any of `tags` (all when empty) and, if given, one of `ids`."""
    wanted = set(tags)
    return [c for c in cases if (not wanted or wanted & set(c.case.tags)) and (not ids or c.case.id in ids)]


# ---------------------------------------------------------------------------- the world of a case


@cache
def _base_seed(name_or_path: str) -> Seed:
    return load_seed(name_or_path)


def build_seed(spec: WorldSpec, base_dir: Path) -> Seed:
    """The case's seed with its order and product patches applied."""
    name = spec.seed
    if name.endswith(".json") and not Path(name).is_absolute():
        name = str((base_dir / name).resolve())
    seed = _base_seed(name).model_copy(deep=True)
    orders = {o.number: o for o in seed.orders}
    for patch in spec.orders:
        fields = patch.model_dump(exclude_unset=True)
        old = orders.get(patch.number)
        orders[patch.number] = SeedOrder.model_validate({**(old.model_dump() if old else {}), **fields})
    products = {p.sku: p for p in seed.products}
    for product_patch in spec.products:
        fields = product_patch.model_dump(exclude_unset=True)
        old_product = products.get(product_patch.sku)
        products[product_patch.sku] = SeedProduct.model_validate(
            {**(old_product.model_dump() if old_product else {}), **fields}
        )
    return seed.model_copy(update={"orders": list(orders.values()), "products": list(products.values())})
