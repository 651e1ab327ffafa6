"""Split a monolithic module into a package of submodules, reproducibly, from a declared mapping.

Why a script and not a hand edit: several people change `inspections/models.py`, `inspections/services.py`,
`inspections/views.py` and `hazards/services.py` at the same time. Moving code by hand would conflict with
every one of their branches; instead the branches are merged into the monolithic files first and this
script is run again on the result.

How to run it (from the repository root, after merging every branch into the monolithic files):

    .venv/bin/python scripts/split_modules.py                 # every module in SPLITS
    .venv/bin/python scripts/split_modules.py inspections.services   # only the ones named

For each source module it
  1. parses the module and places every top-level definition (function, class, assignment, with its
     decorators and the comments directly above it) into the submodule SPLITS names for it;
  2. FAILS, listing them, when a top-level name is placed nowhere (a function someone added since: add it
     to SPLITS and run again), placed twice, or unknown to the module;
  3. gives each submodule the source's whole import block plus imports of the names it uses from its
     siblings, and refuses a mapping whose submodules would import each other in a circle;
  4. writes `<package>/__init__.py` re-exporting every public name, every private name other code reads
     (`from m import _x`, `m._x`, `mock.patch("m._x")`, `("m", "_x")` for getattr) and every imported
     name other code takes from the module (so `from inspections.services import x` keeps working), then
     deletes the monolithic file;
  5. runs `ruff check --fix --select F401,I,RUF022` and `ruff format` on the new files (unused imports go).
It refuses to run when the target is already a package (nothing is ever split twice).

Check afterwards: `ruff check .`, `mypy .`, `manage.py makemigrations --check --dry-run` and the tests.
A name patched by tests through the package (`mock.patch("pkg.mod.name")`) only takes effect where code
looks it up through the package; the script prints every such target so it can be checked.
"""

from __future__ import annotations

import argparse
import ast
import itertools
import subprocess  # nosec B404 # runs ruff from the virtualenv, below
import sys
import textwrap
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
RUFF = ROOT / ".venv" / "bin" / "ruff"
SKIP_DIRS = {".venv", "node_modules", ".git", "static", "var", "__pycache__"}

# {source module: {submodule: [top-level names]}}; the submodule's docstring is in DOCSTRINGS.
SPLITS: dict[str, dict[str, list[str]]] = {
    "inspections.models": {
        "campaigns": [
            "Campaign",
            "validate_campaign_period",
            "CampaignPhase",
            "ChecklistArea",
            "ChecklistItem",
            "Quota",
        ],
        "paths": [
            "_upload_to",
            "inspection_photo_path",
            "evidence_path",
            "enforcement_attachment_path",
            "deliverable_path",
        ],
        "deliverables": ["Deliverable", "DeliverableSubmission", "DeliverableReminder", "TownProgressReport"],
        "self_checks": ["SelfCheckReport", "SelfCheckAnswer", "SelfCheckEvidence"],
        "field_work": ["InspectionTeam", "Inspection", "InspectionPhoto", "Exam"],
        "duty_logs": ["PrincipalDutyLog"],
        "enforcement": ["EnforcementRecord", "TalkManager", "Talk", "EnforcementAttachment"],
        "warnings": ["WarningSettings", "WarningResolution"],
        "calendar": ["HolidayYear", "Holiday"],
    },
    "inspections.services": {
        "common": [
            "_not_in_future",
            "_require_visible_campaign",
            "principal_of",
            "_checked_hazards",
            "ensure_can_record",
        ],
        "enforcement": [
            "ENFORCEMENT_FIELDS",
            "_with_hazards",
            "_complete_enforcement_target",
            "_check_enforcement_scope",
            "validate_enforcement",
            "enforcement_record_create",
            "enforcement_record_update",
            "enforcement_record_delete",
            "_add_enforcement_attachment",
            "enforcement_attachment_add",
            "enforcement_attachment_delete",
        ],
        "field_work": [
            "TEAM_FIELDS",
            "inspection_team_create",
            "inspection_team_update",
            "inspection_team_delete",
            "INSPECTION_FIELDS",
            "_validate_inspection",
            "inspection_create",
            "inspection_update",
            "inspection_delete",
            "_add_photo",
            "photo_make_thumbnail",
            "inspection_photo_add",
            "_mark_inspection",
            "INSPECTION_HAZARD_SOURCE",
            "inspection_hazard_source",
            "inspection_report_hazard",
            "inspection_link_hazards",
            "exam_record",
        ],
        "duty_logs": ["duty_log_save"],
        "self_checks": [
            "SUBMITTED_READ_ONLY",
            "_require_filer",
            "_require_draft",
            "self_check_start",
            "_locked_draft",
            "self_check_answer",
            "self_check_update",
            "self_check_add_evidence",
            "self_check_delete_evidence",
            "unanswered_items",
            "SIGNER_REFUSED",
            "self_check_unexplained",
            "self_check_authenticate_signer",
            "SELF_CHECK_CHANGED_MESSAGE",
            "self_check_sign",
        ],
        "deliverables": [
            "progress_save",
            "SUBMITTABLE_KINDS",
            "submission_create",
            "submission_record_table",
            "REMIND_DAYS_BEFORE",
            "_recipients",
            "deliverable_send_reminders",
        ],
    },
    "inspections.views": {
        "common": ["PAGE_SIZE", "_user", "_form_errors", "_page", "FILE_MODELS", "file_download"],
        "enforcement": [
            "enforcement_list",
            "enforcement_detail",
            "_initial_from_query",
            "enforcement_create",
            "enforcement_edit",
            "enforcement_delete",
            "enforcement_attachment_add",
            "enforcement_import",
            "talk_list",
        ],
        "field_work": [
            "parse_month",
            "inspection_list",
            "inspection_create",
            "inspection_edit",
            "inspection_detail",
            "_inspection_context",
            "inspection_hazard_add",
            "inspection_photo_add",
            "inspection_delete",
            "team_list",
            "exam_list",
            "exam_create",
        ],
        "duty_logs": ["duty_log_list", "duty_log_edit"],
        "campaigns": [
            "campaign_list",
            "campaign_detail",
            "_default_campaign",
            "coverage",
            "progress_list",
            "deliverable_matrix",
            "_enterprise_deliverables",
            "submission_create",
        ],
        "self_checks": [
            "_self_check",
            "self_check_list",
            "_self_check_context",
            "self_check_detail",
            "self_check_answer",
            "self_check_evidence",
            "self_check_summary",
            "self_check_sign",
        ],
        "warnings": ["ID_RANGE", "warning_filters", "warning_list", "warning_resolve"],
    },
    "hazards.services": {
        "base": ["A", "S", "HazardStateChanged", "_name", "_lock", "_require_text", "_record", "record_events_many"],
        "notifications": [
            "NEXT_STEP",
            "_active_users",
            "enterprise_users",
            "town_staff",
            "county_staff",
            "holders",
            "email_configured",
            "_send_emails_later",
            "notify",
            "_describe",
            "_notify_holders",
            "notification_mark_read",
        ],
        "workflow": [
            "EDITABLE_FIELDS",
            "AMENDABLE_FIELDS",
            "_transition",
            "_finish",
            "_notify_step",
            "_check_plausible",
            "_check_dates",
            "_check_criterion",
            "_validate_and_key",
            "_save_unique",
            "hazard_report",
            "SIGN_CHANGED_MESSAGE",
            "hazard_sign_report",
            "hazard_town_confirm",
            "hazard_county_confirm",
            "hazard_send_back",
            "hazard_list_for_supervision",
            "hazard_start_rectification",
            "_has_closure_evidence",
            "_check_rectified_on",
            "hazard_request_closure",
            "_check_not_rectifier",
            "hazard_close",
            "hazard_mark_rectified",
            "hazard_verify",
            "_extension_deciders",
            "hazard_request_extension",
            "hazard_decide_extension",
            "hazard_recheck",
            "_differs",
            "_refuse_unowned",
            "_apply_changes",
            "hazard_update",
            "hazard_admin_amend",
        ],
        "evidence": [
            "hazard_add_evidence",
            "evidence_make_thumbnail",
        ],
        "reminders": ["_reminder_message", "hazard_send_deadline_reminders"],
        "catalogue": [
            "CRITERION_FIELDS",
            "_check_catalogue_admin",
            "may_edit_criterion",
            "_require_criterion_owner",
            "_criterion_region",
            "criterion_create",
            "criterion_update",
        ],
    },
}

DOCSTRINGS: dict[str, str] = {
    "inspections.models.campaigns": "Campaigns (专项行动): phases, checklists, quotas, and how campaigns are scoped.",
    "inspections.models.paths": "Where uploaded files of campaigns and field work are stored (named in migrations).",
    "inspections.models.deliverables": "What a campaign asks towns and enterprises to file; the filings and reminders.",
    "inspections.models.self_checks": "Enterprises' self-check reports (自查报告), their answers and evidence.",
    "inspections.models.field_work": "Field work of towns and county: 督查组, inspections with photos, 逢查必考 exams.",
    "inspections.models.duty_logs": "Principals' duty logs (主要负责人履职记录).",
    "inspections.models.enforcement": "Enforcement records (约谈, 谈心谈话, 行政处罚 …) and their attachments.",
    "inspections.models.warnings": "Settings of the warnings engine and the warnings staff have resolved.",
    "inspections.models.calendar": "The working-day calendar: holidays and 调休 per year.",
    "inspections.services.common": "Checks shared by the field-work services.",
    "inspections.services.enforcement": "Writes of enforcement records and their attachments.",
    "inspections.services.field_work": "Writes of 督查组, inspections (photos, hazards found) and 逢查必考 exams.",
    "inspections.services.duty_logs": "Writes of principals' duty logs.",
    "inspections.services.self_checks": "Writes of self-check reports: start, answer, evidence, signature.",
    "inspections.services.deliverables": "Writes of town progress reports and deliverable submissions, and reminders.",
    "inspections.views.common": "Helpers shared by the pages of field work, and the download of their files.",
    "inspections.views.enforcement": "Pages of enforcement records (and 谈心谈话 among them).",
    "inspections.views.field_work": "Pages of inspections, 督查组 and 逢查必考 exams.",
    "inspections.views.duty_logs": "Pages of principals' duty logs.",
    "inspections.views.campaigns": "Pages of campaigns: coverage, progress reports, deliverables and their filings.",
    "inspections.views.self_checks": "Pages of self-check reports, up to the principal's signature.",
    "inspections.views.warnings": "The warnings page and the resolving of warnings.",
    "hazards.services.base": "Helpers of every hazard write: the row lock, the event and audit record.",
    "hazards.services.notifications": "Who is told (站内通知, e-mail after commit when configured); marking as read.",
    "hazards.services.workflow": "The major- and general-hazard workflows: report, confirm, rectify, close, extend.",
    "hazards.services.evidence": "Evidence files of hazards (checked by portal.upload_types) and their thumbnails.",
    "hazards.services.reminders": "The daily job reminding holders of hazards due soon and overdue.",
    "hazards.services.catalogue": "The catalogue of major-hazard criteria (判定依据) and who may edit it.",
}


class SplitError(Exception):
    pass


@dataclass
class Chunk:
    names: list[str]
    text: str
    node: ast.stmt
    blank_before: int  # blank lines above it in the source, kept between neighbours that stay together
    index: int  # its place among the source's definitions


@dataclass
class Source:
    module: str
    path: Path
    text: str
    docstring: str | None
    future: bool
    import_text: list[str] = field(default_factory=list)
    imported: dict[str, str] = field(default_factory=dict)  # bound name -> its import statement
    chunks: list[Chunk] = field(default_factory=list)
    all_names: list[str] | None = None


def _bound_names(node: ast.stmt) -> list[str]:
    if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
        return [node.name]
    targets: list[ast.expr] = []
    if isinstance(node, ast.Assign):
        targets = list(node.targets)
    elif isinstance(node, ast.AnnAssign):
        targets = [node.target]
    names: list[str] = []
    for target in targets:
        for sub in ast.walk(target):
            if isinstance(sub, ast.Name):
                names.append(sub.id)
    return names


def _is_import_block(node: ast.stmt) -> bool:
    if isinstance(node, ast.Import | ast.ImportFrom):
        return True
    # `if TYPE_CHECKING:` holding only imports travels with the imports.
    return isinstance(node, ast.If) and all(isinstance(n, ast.Import | ast.ImportFrom) for n in node.body)


def read_source(module: str) -> Source:
    path = ROOT / (module.replace(".", "/") + ".py")
    package = path.with_suffix("")
    if package.is_dir():
        raise SplitError(f"{module}: {package.relative_to(ROOT)}/ is already a package — nothing to split")
    if not path.is_file():
        raise SplitError(f"{module}: {path.relative_to(ROOT)} does not exist")
    text = path.read_text(encoding="utf-8")
    tree = ast.parse(text)
    lines = text.splitlines(keepends=True)
    body = list(tree.body)
    docstring = ast.get_docstring(tree, clean=False)
    if docstring is not None:
        body = body[1:]
    source = Source(module=module, path=path, text=text, docstring=docstring, future=False)
    previous_end = tree.body[0].end_lineno if docstring is not None else 0
    assert previous_end is not None
    for node in body:
        start = min([node.lineno] + [d.lineno for d in getattr(node, "decorator_list", [])])
        assert node.end_lineno is not None
        # Comments between the previous statement and this one belong to this one.
        lead = lines[previous_end : start - 1]
        blank_before = 0
        while lead and not lead[0].strip():
            lead.pop(0)
            blank_before += 1
        chunk_text = "".join(lead) + "".join(lines[start - 1 : node.end_lineno])
        previous_end = node.end_lineno
        if isinstance(node, ast.ImportFrom) and node.module == "__future__":
            source.future = True
            continue
        if isinstance(node, ast.ImportFrom) and node.level:
            raise SplitError(f"{module}: relative import on line {node.lineno}; make it absolute first")
        if _is_import_block(node):
            source.import_text.append(chunk_text)
            for sub in ast.walk(node):
                if isinstance(sub, ast.Import | ast.ImportFrom):
                    statement = ast.get_source_segment(text, sub) or ""
                    for alias in sub.names:
                        bound = alias.asname or alias.name.split(".")[0]
                        source.imported[bound] = statement
            continue
        names = _bound_names(node)
        if names == ["__all__"]:
            value = ast.literal_eval(node.value) if isinstance(node, ast.Assign) else None
            source.all_names = list(value) if value else None
            continue
        if not names:
            raise SplitError(f"{module}: line {node.lineno}: a top-level statement that defines no name")
        source.chunks.append(
            Chunk(names=names, text=chunk_text, node=node, blank_before=blank_before, index=len(source.chunks))
        )
    return source


def place(source: Source, mapping: dict[str, list[str]]) -> dict[str, list[Chunk]]:
    placed: dict[str, str] = {}
    twice: list[str] = []
    for target, names in mapping.items():
        for name in names:
            if name in placed:
                twice.append(name)
            placed[name] = target
    defined = {n for chunk in source.chunks for n in chunk.names}
    unplaced = [n for chunk in source.chunks for n in chunk.names if n not in placed]
    unknown = sorted(set(placed) - defined)
    problems = []
    if unplaced:
        problems.append("names the mapping does not place: " + ", ".join(unplaced))
    if twice:
        problems.append("names placed twice: " + ", ".join(twice))
    if unknown:
        problems.append("names in the mapping the module does not define: " + ", ".join(unknown))
    clash = sorted(set(mapping) & (defined | set(source.imported)))
    if clash:
        problems.append("submodule names equal to names of the module: " + ", ".join(clash))
    result: dict[str, list[Chunk]] = {target: [] for target in mapping}
    for chunk in source.chunks:
        targets = {placed.get(n) for n in chunk.names}
        if len(targets) > 1:
            problems.append(f"line {chunk.node.lineno} defines {chunk.names} but they are placed apart")
            continue
        home = targets.pop()
        if home is not None:
            result[home].append(chunk)
    if problems:
        raise SplitError(f"{source.module}:\n  " + "\n  ".join(problems))
    return result


def used_names(nodes: Iterable[ast.AST]) -> set[str]:
    return {sub.id for node in nodes for sub in ast.walk(node) if isinstance(sub, ast.Name)}


def sibling_imports(source: Source, placement: dict[str, list[Chunk]]) -> dict[str, dict[str, list[str]]]:
    """{submodule: {sibling: [names it uses from the sibling]}}; refuses an import cycle."""
    home = {n: target for target, chunks in placement.items() for chunk in chunks for n in chunk.names}
    needs: dict[str, dict[str, list[str]]] = {}
    for target, chunks in placement.items():
        own = {n for chunk in chunks for n in chunk.names}
        wanted = sorted(n for n in used_names(c.node for c in chunks) if n in home and n not in own)
        by_sibling: dict[str, list[str]] = {}
        for name in wanted:
            by_sibling.setdefault(home[name], []).append(name)
        needs[target] = by_sibling
    # Depth-first search for a cycle: submodules import each other at module level, so none may exist.
    state: dict[str, int] = {}

    def visit(node: str, trail: list[str]) -> None:
        state[node] = 1
        for sibling in needs[node]:
            if state.get(sibling) == 1:
                cycle = [*trail[trail.index(sibling) :], sibling] if sibling in trail else [node, sibling]
                detail = "; ".join(f"{a} uses {needs[a][b]} of {b}" for a, b in itertools.pairwise(cycle))
                raise SplitError(f"{source.module}: submodules import each other: {' -> '.join(cycle)} ({detail})")
            if state.get(sibling) is None:
                visit(sibling, [*trail, sibling])
        state[node] = 2

    for target in needs:
        if state.get(target) is None:
            visit(target, [target])
    return needs


def python_files() -> Iterable[Path]:
    for path in ROOT.rglob("*.py"):
        if not SKIP_DIRS.intersection(path.relative_to(ROOT).parts):
            yield path


def names_read_elsewhere(module: str, own_path: Path) -> tuple[set[str], set[str], set[str]]:
    """Names other code takes from `module`, strings that may name one (next to the module's name in a
    tuple), and the mock.patch-style string targets naming it."""
    wanted: set[str] = set()
    maybe: set[str] = set()
    patched: set[str] = set()
    parent, _, leaf = module.rpartition(".")
    for path in python_files():
        if path in (own_path, Path(__file__).resolve()):
            continue
        text = path.read_text(encoding="utf-8")
        if leaf not in text:
            continue
        tree = ast.parse(text)
        aliases: set[str] = set()  # names bound to the module itself
        dotted_roots: set[str] = set()  # `import a.b.c` binds a
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom) and node.module == module:
                wanted.update(a.name for a in node.names)
            elif isinstance(node, ast.ImportFrom) and node.module == parent:
                aliases.update(a.asname or a.name for a in node.names if a.name == leaf)
            elif isinstance(node, ast.Import):
                for a in node.names:
                    if a.name == module and a.asname:
                        aliases.add(a.asname)
                    elif (a.name + ".").startswith(module + ".") or a.name == parent:
                        dotted_roots.add(a.name.split(".")[0])
            elif isinstance(node, ast.Tuple | ast.List) and any(
                isinstance(e, ast.Constant) and e.value == module for e in node.elts
            ):
                # ("pkg.mod", "name", …) read with getattr(import_module(…), …): a name when the module has it.
                maybe.update(e.value for e in node.elts if isinstance(e, ast.Constant) and isinstance(e.value, str))
            elif (
                isinstance(node, ast.Constant)
                and isinstance(node.value, str)
                and node.value.startswith(module + ".")
                and node.value.count(".") == module.count(".") + 1
            ):
                patched.add(node.value)
                wanted.add(node.value.rpartition(".")[2])
        for node in ast.walk(tree):
            if not isinstance(node, ast.Attribute):
                continue
            through_alias = isinstance(node.value, ast.Name) and node.value.id in aliases
            if through_alias or (dotted_roots and ast.unparse(node.value) == module):
                wanted.add(node.attr)
    return wanted, maybe, patched


def _module_doc(text: str) -> str:
    return '"""' + text.replace('"""', '\\"\\"\\"') + '"""\n'


def _join(chunks: list[Chunk]) -> str:
    """The chunks in source order: neighbours in the source keep their spacing, others get two blank lines."""
    text = ""
    for previous, chunk in zip([None, *chunks], chunks, strict=False):
        adjacent = previous is not None and chunk.index == previous.index + 1 and chunk.blank_before < 2
        text += ("\n" * (chunk.blank_before + 1) if adjacent else "\n\n\n" if previous else "") + chunk.text.rstrip(
            "\n"
        )
    return text + "\n"


def write_package(source: Source, placement: dict[str, list[Chunk]]) -> list[Path]:
    needs = sibling_imports(source, placement)
    home = {n: target for target, chunks in placement.items() for chunk in chunks for n in chunk.names}
    wanted, maybe, patched = names_read_elsewhere(source.module, source.path)
    wanted.update(source.all_names or [])
    wanted.update(n for n in maybe if n in home)
    reexport_imported = sorted(n for n in wanted if n not in home and n in source.imported)
    missing = sorted(n for n in wanted if n not in home and n not in source.imported and not n.startswith("__"))
    if missing:
        raise SplitError(f"{source.module}: other code reads names the module neither defines nor imports: {missing}")
    package = source.path.with_suffix("")
    package.mkdir()
    written: list[Path] = []
    future = "from __future__ import annotations\n\n" if source.future else ""
    for target, chunks in placement.items():
        sub = f"{source.module}.{target}"
        doc = DOCSTRINGS.get(sub)
        if doc is None:
            raise SplitError(f"{sub}: no docstring in DOCSTRINGS")
        siblings = "".join(
            f"from {source.module}.{sibling} import {', '.join(names)}\n" for sibling, names in needs[target].items()
        )
        text = _module_doc(doc) + "\n" + future + "".join(source.import_text) + siblings + "\n\n" + _join(chunks)
        path = package / f"{target}.py"
        path.write_text(text, encoding="utf-8")
        written.append(path)
    public: list[str] = []
    lines: list[str] = []
    for target, chunks in placement.items():
        names = [n for chunk in chunks for n in chunk.names]
        exported = [n for n in names if not n.startswith("_") or n in wanted]
        if not exported:
            continue
        parts = [n if not n.startswith("_") else f"{n} as {n}" for n in exported]
        lines.append(f"from {source.module}.{target} import {', '.join(parts)}\n")
        public.extend(n for n in exported if not n.startswith("_"))
    for name in reexport_imported:
        statement = source.imported[name]
        origin = statement.split()[1] if statement.startswith("from ") else None
        if origin is None:
            raise SplitError(f"{source.module}: other code reads module {name!r} through it; import it directly")
        lines.append(f"from {origin} import {name}\n")
        public.append(name)
    note = (
        f"Split into submodules by scripts/split_modules.py ({', '.join(placement)}); this package "
        f"re-exports their public names, so `from {source.module} import x` keeps working."
    )
    intro = (source.docstring or source.module).rstrip() + "\n\n" + textwrap.fill(note, width=110) + "\n"
    init = (
        _module_doc(intro)
        + "\n"
        + "".join(lines)
        + "\n__all__ = [\n"
        + "".join(f'    "{n}",\n' for n in sorted(set(public)))
        + "]\n"
    )
    init_path = package / "__init__.py"
    init_path.write_text(init, encoding="utf-8")
    written.append(init_path)
    source.path.unlink()
    for target in sorted(patched):
        print(f"  note: {target} is patched by name; check the patch reaches where the name is used")
    return written


def tidy(paths: list[Path]) -> None:
    files = [str(p) for p in paths]
    # Fixed arguments, no shell; the first run may leave findings the last one reports.
    # Imports left with one name by F401 are joined again (isort ignoring the magic trailing comma).
    fix = ["check", "--fix", "--select", "F401,I,RUF022", "--config", "lint.isort.split-on-trailing-comma=false"]
    subprocess.run([str(RUFF), *fix, "--quiet", *files], check=False)  # nosec B603 # ruff, fixed arguments
    subprocess.run([str(RUFF), "format", "--quiet", *files], check=True)  # nosec B603 # ruff, fixed arguments
    subprocess.run([str(RUFF), "check", "--quiet", *files], check=True)  # nosec B603 # ruff, fixed arguments


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("modules", nargs="*", help="source modules to split (default: every one in SPLITS)")
    args = parser.parse_args(argv)
    modules = args.modules or list(SPLITS)
    try:
        unknown = [m for m in modules if m not in SPLITS]
        if unknown:
            raise SplitError(f"no mapping for {unknown}")
        # Read and check every source first, so a failing mapping leaves the tree untouched.
        plans = []
        for module in modules:
            source = read_source(module)
            placement = place(source, SPLITS[module])
            sibling_imports(source, placement)
            plans.append((source, placement))
        written: list[Path] = []
        for source, placement in plans:
            print(f"splitting {source.module} into {', '.join(placement)}")
            written += write_package(source, placement)
        tidy(written)
    except SplitError as exc:
        print(f"split_modules: FAILED\n{exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
