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


def test_values_are_masked_as_programs_escape_them() -> None:
    """Playwright quotes a URL percent-encoded; JSON writers may escape non-ASCII text."""
    redactor = Redactor()
    redactor.add_secrets(["p@ss word/1"])
    redactor.set_personal({"山田　太郎": "氏名"})
    url = "http://x/find?name=%E5%B1%B1%E7%94%B0%E3%80%80%E5%A4%AA%E9%83%8E&pw=p%40ss+word%2F1"
    assert redactor(url) == "http://x/find?name=[氏名]&pw=***"
    assert redactor('{"name": "\\u5c71\\u7530\\u3000\\u592a\\u90ce"}') == '{"name": "[氏名]"}'


def test_crash_reports_mask_the_secrets_of_a_run_in_memory() -> None:
    from framework.redact import safe_traceback

    redactor = Redactor()
    redactor.add_secrets(["crash-pw-77"])
    try:
        raise ValueError("login failed with crash-pw-77")
    except ValueError as exc:
        report = safe_traceback(exc)
    assert "ValueError: login failed with ***" in report
    assert "crash-pw-77" not in report
    assert "test_crash_reports_mask_the_secrets_of_a_run_in_memory" in report  # where it was
