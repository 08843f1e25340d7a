"""Who may see and do what. Checked on the server for every page and API call."""
from __future__ import annotations

from engine.db import TaskRow, User
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


def not_in_lane(login: str, row: TaskRow) -> Text:
    """Why `login` may not take the task (see may_take): said the same wherever it is refused."""
    return Text("%(login)s bukan anggota %(lane)s untuk tugas ini", login=login, lane=role_name(row.lane_role))


def is_admin(account: User) -> bool:
    return "admin" in account.role_names
