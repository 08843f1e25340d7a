"""Who may see and do what. Checked on the server for every page and API call."""
from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from engine.db import Bidang, TaskRow, User
from process.messages import Text

LANE_ROLES = ("implementasi", "teknis", "administrasi", "sekretaris")
# What people call the roles, on pages and in messages.
ROLE_NAMES = {
    "implementasi": Text("Tim Implementasi"), "teknis": Text("Tim Teknis"), "administrasi": Text("Tim Administrasi"),
    "sekretaris": Text("Sekretaris"), "kepala": Text("Kepala Bidang"), "kadis": Text("Kepala Dinas"),
    "pemilik_proses": Text("Pemilik proses"), "admin": Text("Administrator"),
}


def role_name(role: str) -> Text | str:
    return ROLE_NAMES.get(role, role)
OFFICE_WIDE_ROLES = ("sekretaris", "kadis", "pemilik_proses", "admin")


def sees_all_bidang(account: User) -> bool:
    return bool(account.role_names & set(OFFICE_WIDE_ROLES))


def may_start(account: User, bidang: str) -> bool:
    if account.role_names & {"sekretaris", "admin"}:
        return True
    return account.bidang_code == bidang and bool(account.role_names & set(LANE_ROLES))


def may_take(account: User, row: TaskRow) -> bool:
    return row.lane_role in account.role_names and row.bidang_code in (None, account.bidang_code)


def not_in_lane(session: Session, login: str, account: User, row: TaskRow) -> Text:
    """Why `login` (`account`) may not take the task (see may_take): said the same wherever it is refused.

    A member of the lane's role in another Bidang is told the task's Bidang: "not a member of Tim
    Implementasi" reads as a mistake to a member of another Bidang's Tim Implementasi.
    """
    lane = role_name(row.lane_role)
    if row.lane_role in account.role_names and row.bidang_code is not None:
        bidang = session.scalar(select(Bidang.name).where(Bidang.code == row.bidang_code)) or row.bidang_code
        return Text("%(login)s bukan anggota %(lane)s %(bidang)s", login=login, lane=lane, bidang=bidang)
    return Text("%(login)s bukan anggota %(lane)s untuk tugas ini", login=login, lane=lane)


def is_admin(account: User) -> bool:
    return "admin" in account.role_names
