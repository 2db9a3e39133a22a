"""Optional: let an OpenAI-compatible model (e.g. the city's own) rephrase a grounded answer.

The model may only reword. Any number, amount, date, link or e-mail address in its output
must already be in the grounded answer, and none may go missing; otherwise, or when the
endpoint fails or is slow, the grounded answer stands as it is.
"""

from __future__ import annotations

import logging
import re

import httpx

log = logging.getLogger("servicepoint.assistant")
_FACT = re.compile(r"https?://\S+|[\w.+-]+@[\w-]+(?:\.[\w-]+)+|\d+(?:[.,:]\d+)*")
_PROMPT = {
    "de": "Formuliere die folgende Auskunft einer Stadtverwaltung freundlicher und natürlicher "
    "auf Deutsch. Füge keine Fakten hinzu, lass keine weg, ändere keine Zahlen, Beträge, "
    "Daten oder Links. Antworte nur mit dem umformulierten Text.",
    "en": "Rephrase the following answer of a city administration in friendlier, natural "
    "English. Do not add or drop facts and do not change any number, amount, date or "
    "link. Reply with the rephrased text only.",
}


def facts(text: str) -> set[str]:
    return {m.rstrip(".,;:)") for m in _FACT.findall(text)}


def is_faithful(original: str, candidate: str) -> bool:
    """Same facts in, same facts out (numbers, amounts, dates, links, addresses)."""
    return bool(candidate.strip()) and facts(candidate) == facts(original)


class Rephraser:
    def __init__(self, url: str, model: str, api_key: str | None, timeout: float) -> None:
        self.url = url.rstrip("/") + "/chat/completions"
        self.model = model
        self.headers = {"Authorization": f"Bearer {api_key}"} if api_key else {}
        self.timeout = timeout

    def __call__(self, answer: str, lang: str) -> str:
        payload = {
            "model": self.model,
            "temperature": 0.2,
            "messages": [
                {"role": "system", "content": _PROMPT.get(lang, _PROMPT["de"])},
                {"role": "user", "content": answer},
            ],
        }
        try:
            resp = httpx.post(self.url, json=payload, headers=self.headers, timeout=self.timeout)
            resp.raise_for_status()
            text = str(resp.json()["choices"][0]["message"]["content"]).strip()
        except (httpx.HTTPError, KeyError, IndexError, TypeError, ValueError) as exc:
            log.warning("rephrasing skipped: %s", exc)
            return answer
        return text if is_faithful(answer, text) else answer
