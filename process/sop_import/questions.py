"""What the source leaves open, as questions pinned to diagram elements, and their answers.

A question names the element it is about (the step, the decision's
gateway, the lane), the field that answers it, and what a valid answer
looks like. Answers are a mapping from element id to {field: value}; they
may also override what the table said (e.g. a whole lane assignment).
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from process.loader import LANE_ROLES
from process.messages import Text, as_json
from process.mutu_baku import MutuBaku, MutuBakuError
from process.sop_import.ids import gateway_id, known_role, lane_id, role_of, step_id
from process.sop_import.model import END, Sop, SopStep, at


class AnswerError(ValueError):
    """An answer that does not fit its question; `args[0]` is the `Text`, naming the element."""


@dataclass(frozen=True)
class Question:
    element: str
    field: str               # pelaksana | waktu | ya | tidak | peran
    text: Text
    options: tuple[str, ...] = ()

    @property
    def id(self) -> str:
        return f"{self.element}.{self.field}"

    def as_dict(self) -> dict[str, Any]:
        """As the draft's YAML stores it: the Indonesian text for people, the message for the web to translate."""
        data: dict[str, Any] = {"id": self.id, "element": self.element, "field": self.field,
                                "text": str(self.text), "message": as_json(self.text)}
        if self.options:
            data["options"] = list(self.options)
        return data


def _short(text: str, limit: int = 60) -> str:
    return text if len(text) <= limit else text[:limit - 1].rstrip() + "…"


def open_questions(sop: Sop) -> list[Question]:
    questions: list[Question] = []
    for actor in sop.actors:
        role = sop.roles.get(actor) or role_of(actor)
        if not known_role(role):
            questions.append(Question(
                lane_id(actor), "peran",
                Text("Pelaksana %(actor)r bukan salah satu peran kantor: peran apa yang diwakili lane ini "
                     "(%(roles)s)?", actor=actor, roles=", ".join(LANE_ROLES)), tuple(LANE_ROLES)))
    for step in sop.steps:
        questions.extend(_step_questions(sop, step))
    return questions


def _step_questions(sop: Sop, step: SopStep) -> list[Question]:
    found = []
    about = {"number": step.number, "uraian": _short(step.uraian)}
    if step.pelaksana is None:
        text = (Text("Pada langkah %(number)d (%(uraian)r) beberapa kolom Pelaksana ditandai (%(candidates)s): "
                     "siapa yang melaksanakannya?", candidates=", ".join(step.candidates), **about)
                if step.candidates else
                Text("Pada langkah %(number)d (%(uraian)r) tidak ada kolom Pelaksana yang ditandai: siapa yang "
                     "melaksanakannya?", **about))
        found.append(Question(step_id(step.number), "pelaksana", text, tuple(step.candidates or sop.actors)))
    try:
        MutuBaku.parse(step.waktu)
    except MutuBakuError:
        text = (Text("Pada langkah %(number)d (%(uraian)r) Waktu %(waktu)r tidak terbaca: berapa mutu baku "
                     "waktunya (mis. '30 Menit', '1 Hari', '7 Hari Kerja')?", waktu=step.waktu, **about)
                if step.waktu else
                Text("Pada langkah %(number)d (%(uraian)r) Waktu tidak diisi: berapa mutu baku waktunya (mis. "
                     "'30 Menit', '1 Hari', '7 Hari Kerja')?", **about))
        found.append(Question(step_id(step.number), "waktu", text))
    if step.decision:
        targets = tuple(str(s.number) for s in sop.steps if s.number != step.number) + (END,)
        for label, value in (("ya", step.ya), ("tidak", step.tidak)):
            if value is None:
                text = Text("Keputusan pada langkah %(number)d (%(uraian)r): tabel tidak menyebut ke mana cabang "
                            "'%(label)s' berlanjut. Langkah mana berikutnya (nomor langkah, atau '%(end)s')?",
                            label=label.capitalize(), end=END, **about)
                found.append(Question(gateway_id(step.number), label, text, targets))
    return found


def apply_answers(sop: Sop, answers: Any) -> None:
    """Write the answers into the model; AnswerError for an unknown element or a bad value."""
    if answers is None:
        return
    if not isinstance(answers, dict):
        raise AnswerError(Text("jawaban harus berupa mapping dari id elemen ke {isian: nilai}"))
    steps = {step_id(s.number): s for s in sop.steps}
    gateways = {gateway_id(s.number): s for s in sop.steps if s.decision}
    lanes = {lane_id(a): a for a in sop.actors}
    for element, fields in answers.items():
        if not isinstance(fields, dict):
            raise AnswerError(at(element, Text("jawaban harus berupa mapping, mis. {pelaksana: Tim Teknis}")))
        for field, value in fields.items():
            where = f"{element}.{field}"
            if element in steps and field == "pelaksana":
                steps[element].pelaksana = _actor(sop, value, where)
                steps[element].candidates = ()
            elif element in steps and field == "waktu":
                try:
                    MutuBaku.parse(str(value))
                except MutuBakuError as err:
                    raise AnswerError(at(where, err.args[0])) from None
                steps[element].waktu = str(value)
            elif element in gateways and field in ("ya", "tidak"):
                setattr(gateways[element], field, _target(sop, gateways[element], value, where))
            elif element in lanes and field == "peran":
                if str(value) not in LANE_ROLES:
                    raise AnswerError(at(where, Text("%(value)r bukan salah satu peran kantor (%(roles)s)",
                                                     value=value, roles=", ".join(LANE_ROLES))))
                sop.roles[lanes[element]] = str(value)
            else:
                raise AnswerError(at(where, Text(
                    "tidak ada pertanyaan seperti itu (jawaban menyebut pelaksana atau waktu sebuah langkah, ya "
                    "atau tidak sebuah percabangan, atau peran sebuah lane)")))


def _actor(sop: Sop, value: Any, where: str) -> str:
    wanted = " ".join(str(value).split()).lower()
    for actor in sop.actors:
        if actor.lower() == wanted or role_of(actor) == wanted or lane_id(actor).lower() == wanted:
            return actor
    raise AnswerError(at(where, Text("%(value)r bukan salah satu Pelaksana dalam tabel (%(actors)s)",
                                     value=value, actors=", ".join(sop.actors))))


def _target(sop: Sop, step: SopStep, value: Any, where: str) -> int | str:
    text = str(value).strip().lower()
    if text == END:
        return END
    if text.isascii() and text.isdigit() and len(text) <= 9 and sop.step(int(text)) is not None and int(text) != step.number:
        return int(text)
    raise AnswerError(at(where, Text("%(value)r bukan nomor langkah lain atau '%(end)s'", value=value, end=END)))
