"""The safe evaluator for numeric spec fields: plain arithmetic works, anything else is refused."""

import pytest

from loopnest.arch.expr import ExprError, numeric_field, safe_eval


@pytest.mark.parametrize("text, value", [
    ("108 * 1024 * 8 / 16", 55296),        # Eyeriss GLB: 108 KB of 16-bit words
    ("24 * 1024 * 1024", 25165824),        # TPU unified buffer, bytes
    ("34e9 / 700e6", 34e9 / 700e6),        # TPU DRAM bytes per cycle
    ("2 ** 10", 1024),
    ("-(3 - 5)", 2),
    ("7 // 2", 3),
    ("7 % 4", 3),
    ("1 / 4", 0.25),
    ("1_000", 1000),
])
def test_arithmetic(text, value):
    assert safe_eval(text) == value


def test_even_integer_division_stays_int():
    assert isinstance(safe_eval("128 * 1024 * 8 / 16"), int)


@pytest.mark.parametrize("hostile", [
    "__import__('os').system('echo pwned')",
    "().__class__.__bases__[0].__subclasses__()",
    "open('/etc/passwd').read()",
    "lambda: 1",
    "[1, 2]",
    "{'a': 1}",
    "'a' * 10",
    "x",
    "1 if 1 else 2",
    "(1).real",
    "True + 1",
    "9 ** 9 ** 9",                      # exponent out of range, refused before computing
    "10 ** 18 * 10",                    # beyond MAX_MAGNITUDE
    "1e308 * 10",
    "(-8) ** 0.5",                      # complex
    "1 / 0",
    "0 ** -1",
    "1 +",                              # syntax
    "(" * 150 + "1" + ")" * 150,        # too long / too deep
    "1" * 500,
    "",
])
def test_hostile_input_is_refused(hostile):
    with pytest.raises(ExprError):
        safe_eval(hostile)


def test_numeric_field_passes_numbers_and_refuses_booleans():
    assert numeric_field(5) == 5
    assert numeric_field("2 * 3") == 6
    with pytest.raises(ValueError):
        numeric_field(True)
