"""Masking of secrets and the current item's personal values."""

from __future__ import annotations

from framework.redact import Redactor


def test_secrets_and_personal_values_are_masked() -> None:
    redactor = Redactor()
    redactor.add_secrets(["s3cret-pw"])
    redactor.set_personal({"山田　太郎": "氏名", "0123456789": "受給者番号"})
    text = "login with s3cret-pw for 山田　太郎 (0123456789) failed"
    assert redactor(text) == "login with *** for [氏名] ([受給者番号]) failed"


def test_longest_value_wins() -> None:
    redactor = Redactor()
    redactor.set_personal({"山田": "氏名", "山田　太郎": "氏名"})
    assert redactor("山田　太郎") == "[氏名]"


def test_next_item_replaces_the_previous_items_values() -> None:
    redactor = Redactor()
    redactor.set_personal({"山田　太郎": "氏名"})
    redactor.set_personal({"佐藤　花子": "氏名"})
    assert redactor("山田　太郎 佐藤　花子") == "山田　太郎 [氏名]"


def test_single_characters_are_not_masked() -> None:
    redactor = Redactor()
    redactor.set_personal({"1": "区分"})
    assert redactor("区分1") == "区分1"
