"""deploy/Dockerfile and .dockerignore, proven as far as a machine without a Docker daemon allows.

The Dockerfile is parsed and checked for what the image promises (non-root, slim, health check, the web
command). Then its build steps run for real on the build context Docker would send (the working tree
filtered by .dockerignore): the project wheel is built from exactly what the builder stage copies,
installed on its own, and translations, static files and gunicorn's configuration are loaded from the
installed package, in an empty directory, as in the image.
"""

import http.server
import json
import os
import re
import shlex
import shutil
import subprocess
import sys
import zipfile
from dataclasses import dataclass, field
from pathlib import Path

import polib
import pytest

from tests import clock
from tests.fakes.serving import serve_in_thread, stop_serving

ROOT = Path(__file__).resolve().parents[2]
DOCKERFILE = ROOT / "deploy" / "Dockerfile"
DOCKERIGNORE = ROOT / ".dockerignore"
WEB_COMMAND = ["gunicorn", "-c", "deploy/gunicorn.conf.py", "termino.wsgi"]

# --- A small Dockerfile reader -------------------------------------------------------------------------


@dataclass
class Instruction:
    keyword: str
    args: str
    line: int

    def flags_and_words(self) -> tuple[dict[str, str], list[str]]:
        """`COPY --from=builder /a /b` → ({"from": "builder"}, ["/a", "/b"])."""
        flags, words = {}, []
        for word in shlex.split(self.args):
            if word.startswith("--") and not words:
                name, _, value = word[2:].partition("=")
                flags[name] = value
            else:
                words.append(word)
        return flags, words

    def exec_form(self) -> list[str] | None:
        text = self.args.strip()
        return json.loads(text) if text.startswith("[") else None


@dataclass
class Stage:
    base: str
    name: str | None
    instructions: list[Instruction] = field(default_factory=list)

    def all(self, keyword: str) -> list[Instruction]:
        return [i for i in self.instructions if i.keyword == keyword]

    def env(self) -> dict[str, str]:
        values = {}
        for instruction in self.all("ENV"):
            for word in shlex.split(instruction.args):
                key, _, value = word.partition("=")
                values[key] = value
        return values


def parse_dockerfile(text: str) -> list[Stage]:
    """Instructions with their line continuations joined; comment lines dropped, also inside a
    continuation, as Docker does. Enough for this Dockerfile (no heredocs, default escape character)."""
    stages: list[Stage] = []
    pending, start = "", 0
    for number, raw in enumerate(text.splitlines(), start=1):
        stripped = raw.strip()
        if not stripped or stripped.startswith("#"):
            continue
        if not pending:
            start = number
        if stripped.endswith("\\"):
            pending += stripped[:-1].rstrip() + " "
            continue
        keyword, _, args = (pending + stripped).partition(" ")
        pending = ""
        instruction = Instruction(keyword.upper(), args.strip(), start)
        if instruction.keyword == "FROM":
            words = instruction.flags_and_words()[1]
            name = words[2] if len(words) == 3 and words[1].upper() == "AS" else None
            stages.append(Stage(base=words[0], name=name))
        else:
            assert stages, f"line {start}: {instruction.keyword} before any FROM"
            stages[-1].instructions.append(instruction)
    assert not pending, "the Dockerfile ends inside a line continuation"
    return stages


# --- .dockerignore, with Docker's matching rules --------------------------------------------------------


def _pattern_regex(pattern: str) -> re.Pattern:
    """Docker's (moby/patternmatcher) reading: `*` and `?` stay within a path element, `**` spans any."""
    out, i = "^", 0
    while i < len(pattern):
        char = pattern[i]
        if char == "*" and pattern[i + 1 : i + 2] == "*":
            i += 2 if pattern[i + 2 : i + 3] != "/" else 3
            out += ".*" if i >= len(pattern) else "(.*/)?"
            continue
        if char == "*":
            out += "[^/]*"
        elif char == "?":
            out += "[^/]"
        elif char == "[":
            end = pattern.index("]", i)
            out += pattern[i : end + 1]
            i = end
        elif char == "\\" and i + 1 < len(pattern):
            i += 1
            out += re.escape(pattern[i])
        else:
            out += re.escape(char)
        i += 1
    return re.compile(out + "$")


class DockerIgnore:
    def __init__(self, text: str):
        self.rules: list[tuple[bool, str, re.Pattern]] = []  # (exception, pattern, regex)
        for line in text.splitlines():
            line = line.strip()
            if not line or line.startswith("#"):
                continue
            exception = line.startswith("!")
            pattern = os.path.normpath(line.lstrip("!").strip()).lstrip("/")
            self.rules.append((exception, pattern, _pattern_regex(pattern)))

    def excluded(self, path: str) -> bool:
        """Last matching rule wins; a rule matches the path or any of its parent directories."""
        parts = path.split("/")
        candidates = ["/".join(parts[: n + 1]) for n in range(len(parts))]
        result = False
        for exception, _pattern, regex in self.rules:
            if any(regex.match(candidate) for candidate in candidates):
                result = not exception
        return result

    def may_include_below(self, directory: str) -> bool:
        """Whether an exception could let a file below this directory back in (else the walk skips it)."""
        prefix = directory + "/"
        for exception, pattern, _regex in self.rules:
            if not exception:
                continue
            literal = re.split(r"[*?\[\\]", pattern)[0]  # up to the first wildcard
            if literal == pattern:
                if pattern.startswith(prefix):
                    return True
            elif prefix.startswith(literal) or literal.startswith(prefix):
                return True
        return False


def build_context(root: Path = ROOT) -> list[str]:
    """The files `docker build` would send: the working tree minus what .dockerignore excludes."""
    ignore = DockerIgnore((root / ".dockerignore").read_text())
    files = []
    for directory, subdirs, names in os.walk(root):
        rel_dir = os.path.relpath(directory, root)
        rel_dir = "" if rel_dir == "." else rel_dir + "/"
        subdirs[:] = [
            d
            for d in subdirs
            if not (ignore.excluded(rel_dir + d) and not ignore.may_include_below(rel_dir + d))
        ]
        files += [rel_dir + name for name in names if not ignore.excluded(rel_dir + name)]
    return sorted(files)


def copy_context(files: list[str], dest: Path) -> None:
    for rel in files:
        target = dest / rel
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(ROOT / rel, target)


def run_copies(stage: Stage, context: Path, stage_root: Path) -> None:
    """The stage's COPY instructions from the build context (not those --from another stage)."""
    workdir = "/"
    for instruction in stage.instructions:
        if instruction.keyword == "WORKDIR":
            workdir = os.path.join(workdir, instruction.args)
        if instruction.keyword != "COPY":
            continue
        flags, words = instruction.flags_and_words()
        if "from" in flags:
            continue
        *sources, dest = words
        dest_path = stage_root / os.path.join(workdir, dest).lstrip("/")
        for source in sources:
            src = context / source
            if src.is_dir():
                shutil.copytree(src, dest_path, dirs_exist_ok=True)
            else:
                into_dir = dest.endswith("/") or len(sources) > 1
                target = dest_path / src.name if into_dir else dest_path
                target.parent.mkdir(parents=True, exist_ok=True)
                shutil.copy2(src, target)


# --- The Dockerfile as written ----------------------------------------------------------------------------


@pytest.fixture(scope="module")
def stages() -> list[Stage]:
    return parse_dockerfile(DOCKERFILE.read_text())


def test_parser_reads_continuations_and_comments():
    stages = parse_dockerfile(
        "# syntax=docker/dockerfile:1\nFROM a:1 AS one\nRUN echo 1 \\\n# inside\n    && echo 2\n"
        'FROM b:2\nCOPY --from=one /x /y\nCMD ["run", "it"]\n'
    )
    assert [(s.base, s.name) for s in stages] == [("a:1", "one"), ("b:2", None)]
    assert stages[0].instructions[0].args == "echo 1 && echo 2"
    assert stages[1].all("COPY")[0].flags_and_words() == ({"from": "one"}, ["/x", "/y"])
    assert stages[1].all("CMD")[0].exec_form() == ["run", "it"]


def test_multi_stage_on_one_pinned_slim_python(stages):
    assert len(stages) >= 2
    builder, final = stages[0], stages[-1]
    assert re.fullmatch(r"python:3\.11[.\d]*-slim-bookworm(@sha256:[0-9a-f]{64})?", final.base), final.base
    # The runtime stage copies files out of the builder's site-packages by path: same Python, same path.
    assert builder.base == final.base
    python = re.match(r"python:(\d+\.\d+)", final.base)[1]
    for copy in final.all("COPY"):
        for word in copy.flags_and_words()[1]:
            if "site-packages" in word:
                assert f"/python{python}/" in word, word
    names = [s.name for s in stages]
    for stage in stages:
        for copy in stage.all("COPY"):
            source_stage = copy.flags_and_words()[0].get("from")
            assert source_stage is None or source_stage in names[: stages.index(stage)], copy


def test_runtime_stage_is_non_root_and_minimal(stages):
    final = stages[-1]
    user = final.all("USER")[-1].args
    uid, _, gid = user.partition(":")
    assert uid.isdigit() and int(uid) != 0 and (not gid or gid.isdigit()), f"USER {user}: numeric, not root"
    assert final.all("WORKDIR")[-1].args == "/app"
    assert "8000" in final.all("EXPOSE")[-1].args.split()
    env = final.env()
    assert env["DEBUG"] == "0" and env["STATIC_ROOT"] == "/app/static"
    assert env["PYTHONUNBUFFERED"] == "1" and env["PYTHONDONTWRITEBYTECODE"] == "1"
    runs = " ".join(run.args for run in final.all("RUN"))
    assert "apt-get" not in runs and "gcc" not in runs, "no packages (and no compilers) in the runtime stage"
    for run in final.all("RUN"):
        if "pip install" in run.args:
            assert "--no-cache-dir" in run.args and "--no-index" in run.args, run.args
    # The build-time SECRET_KEY stays in the builder stage.
    assert not any("SECRET_KEY" in i.args for i in final.instructions if i.keyword in {"ENV", "ARG"})
    for stage in stages:
        for add in stage.all("ADD"):
            assert not re.search(r"\b(https?|git)://", add.args), f"ADD of a URL: {add.args}"


def test_builder_stage_runs_the_steps_this_test_repeats(stages):
    runs = [run.args for run in stages[0].all("RUN")]
    assert any("pip wheel" in run for run in runs)
    assert any("termino.shared.compile_messages" in run for run in runs)
    collect = [run for run in runs if "collectstatic" in run]
    assert collect and "DEBUG=0" in collect[0] and "SECRET_KEY=" in collect[0]


def test_web_command_and_health_check(stages):
    final = stages[-1]
    assert final.all("CMD")[-1].exec_form() == WEB_COMMAND
    assert (ROOT / WEB_COMMAND[2]).is_file()
    health = final.all("HEALTHCHECK")
    assert health, "no HEALTHCHECK"
    command = health[-1].args.partition("CMD")[2].strip()
    check = json.loads(command)
    assert check[0] == "python" and "/healthz" in check[-1]

    # Run the health check's own command against a server answering /healthz with 200, then with 503.
    status = {"code": 200}

    class Probe(http.server.BaseHTTPRequestHandler):
        def do_GET(self):
            self.send_response(status["code"] if self.path == "/healthz" else 404)
            self.end_headers()

        def log_message(self, *args):
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Probe)
    serve_in_thread(server)
    try:
        env = {**os.environ, "PORT": str(server.server_address[1])}
        healthy = subprocess.run([sys.executable, *check[1:]], env=env, capture_output=True, timeout=20)
        status["code"] = 503
        unhealthy = subprocess.run([sys.executable, *check[1:]], env=env, capture_output=True, timeout=20)
    finally:
        stop_serving(server)
    assert healthy.returncode == 0, healthy.stderr
    assert unhealthy.returncode != 0


# --- The build context ------------------------------------------------------------------------------------


def test_dockerignore_matching_follows_docker():
    ignore = DockerIgnore("*\n!keep/\nkeep/**/skip\n**/*.mo\n")
    assert ignore.excluded(".venv/bin/python") and ignore.excluded("other.txt")
    assert not ignore.excluded("keep/a/b.py")
    assert ignore.excluded("keep/skip/x.py") and ignore.excluded("keep/a/skip/x.py")
    assert ignore.excluded("keep/de/LC_MESSAGES/django.mo")


@pytest.fixture(scope="module")
def context_files() -> list[str]:
    return build_context()


def test_context_is_only_what_the_image_needs(context_files):
    ignore = DockerIgnore(DOCKERIGNORE.read_text())
    for unwanted in (
        ".venv/bin/python",
        ".run/x",
        ".git/HEAD",
        "tests/conftest.py",
        "bench/x.py",
        "docs/x.md",
    ):
        assert ignore.excluded(unwanted), unwanted
    for wanted in (
        "pyproject.toml",
        "README.md",
        "manage.py",
        "termino/settings.py",
        "deploy/gunicorn.conf.py",
    ):
        assert wanted in context_files, wanted
    tops = {path.split("/")[0] for path in context_files}
    assert tops <= {"pyproject.toml", "README.md", "manage.py", "termino", "deploy"}, tops
    # Nothing git ignores (bytecode, compiled catalogues, egg-info, local data) reaches the builder.
    ignored = subprocess.run(
        ["git", "check-ignore", "--no-index", "--stdin"],
        cwd=ROOT,
        input="\n".join(context_files),
        capture_output=True,
        text=True,
        check=False,
    ).stdout.split()
    assert ignored == []


def test_every_copy_source_is_in_the_context(stages, context_files):
    for stage in stages:
        for copy in stage.all("COPY"):
            flags, words = copy.flags_and_words()
            if "from" in flags:
                continue
            for source in words[:-1]:
                source = source.rstrip("/")
                assert source in context_files or any(f.startswith(source + "/") for f in context_files), (
                    f"line {copy.line}: COPY {source} is missing from the build context"
                )


# --- The build steps, for real ----------------------------------------------------------------------------


@dataclass
class Build:
    tmp: Path
    context: Path
    wheel: Path
    site: Path  # the wheel installed on its own, like site-packages in the image


def _python(build: Build, *args: str, cwd: Path, **env: str) -> subprocess.CompletedProcess:
    """Python with the installed wheel ahead of everything (the checkout's editable install included),
    from a directory without sources, as the image runs it."""
    environment = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("DJANGO_", "DEBUG", "SECRET_KEY", "STATIC_ROOT", "PYTHONPATH"))
    }
    # The wheel first; the suite's clock hook (tests/clock.py) after it, so the image's code runs pinned too.
    path = os.pathsep.join([str(build.site), str(clock.HOOK_DIR)])
    environment.update(PYTHONPATH=path, DJANGO_SETTINGS_MODULE="termino.settings", **env)
    return subprocess.run(
        [sys.executable, *args], cwd=cwd, env=environment, capture_output=True, text=True, timeout=180
    )


@pytest.fixture(scope="module")
def build(stages, context_files, tmp_path_factory) -> Build:
    tmp = tmp_path_factory.mktemp("image")
    context = tmp / "context"
    copy_context(context_files, context)
    builder_root = tmp / "builder"
    run_copies(stages[0], context, builder_root)
    source = builder_root / stages[0].all("WORKDIR")[0].args.lstrip("/")
    wheels = tmp / "wheels"
    pip = [sys.executable, "-m", "pip", "--disable-pip-version-check"]
    made = subprocess.run(
        [*pip, "wheel", "--no-deps", "--wheel-dir", str(wheels), str(source)],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert made.returncode == 0, f"pip wheel failed:\n{made.stdout}\n{made.stderr}"
    (wheel,) = wheels.glob("termino-*.whl")
    site = tmp / "site"
    installed = subprocess.run(
        [*pip, "install", "--no-deps", "--no-compile", "--target", str(site), str(wheel)],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert installed.returncode == 0, installed.stderr
    (tmp / "empty").mkdir()
    return Build(tmp=tmp, context=context, wheel=wheel, site=site)


def test_wheel_carries_templates_static_translations_and_migrations(build, context_files):
    packaged = set(zipfile.ZipFile(build.wheel).namelist())
    expected = [path for path in context_files if path.startswith("termino/")]
    missing = sorted(path for path in expected if path not in packaged)
    # The fix lives in pyproject.toml: [tool.setuptools.package-data] "*" = ["templates/**/*",
    # "static/**/*", "locale/*/LC_MESSAGES/*"]. Without it the image has no templates at all.
    assert not missing, (
        f"{len(missing)} files of the package are not in the wheel (package data, see the comment above),"
        f" e.g. {missing[:5]}"
    )
    for kind in ("/templates/", "/static/", "/locale/", "/migrations/"):
        assert any(kind in path for path in packaged), kind
    # Production code only: no embedded servers for `make run`, no fakes of third parties for the tests.
    assert not [path for path in packaged if path.startswith("termino/devserver/")]
    assert not [path for path in packaged if "fake" in path.rsplit("/", 1)[-1]]


def test_installed_package_compiles_messages_and_translates(build):
    compiled = _python(build, "-m", "termino.shared.compile_messages", cwd=build.tmp / "empty")
    assert compiled.returncode == 0, compiled.stderr
    mo_files = list((build.site / "termino" / "locale").glob("*/LC_MESSAGES/django.mo"))
    assert mo_files, "compile_messages wrote no .mo file into the installed package"

    po = polib.pofile(str(build.context / "termino/locale/de/LC_MESSAGES/django.po"))
    entry = next(e for e in po.translated_entries() if "%" not in e.msgid and "{" not in e.msgid)
    script = (
        "import django, termino; django.setup()\n"
        "from django.template.loader import get_template\n"
        "from django.utils import translation\n"
        "get_template('tenancy/unknown_host.html'); get_template('accounts/login.html')\n"
        "translation.activate('de')\n"
        f"print(termino.__file__); print(translation.gettext({entry.msgid!r}))\n"
    )
    result = _python(build, "-c", script, cwd=build.tmp / "empty", DEBUG="0", SECRET_KEY="x" * 50)
    assert result.returncode == 0, result.stderr
    where, translated = result.stdout.strip().splitlines()[-2:]
    assert Path(where).is_relative_to(build.site), f"termino was imported from {where}, not from the wheel"
    assert translated == entry.msgstr


def test_collectstatic_with_production_settings(build, context_files):
    static_root = build.tmp / "static"
    result = _python(
        build,
        "-m",
        "django",
        "collectstatic",
        "--noinput",
        cwd=build.tmp / "empty",
        DEBUG="0",
        SECRET_KEY="build-only-not-a-secret",
        STATIC_ROOT=str(static_root),
    )
    assert result.returncode == 0, result.stderr
    manifest = json.loads((static_root / "staticfiles.json").read_text())
    collected = set(manifest["paths"])
    ours = [p.split("/static/", 1)[1] for p in context_files if p.startswith("termino/") and "/static/" in p]
    assert ours and all(path in collected for path in ours), sorted(set(ours) - collected)[:5]
    hashed = manifest["paths"][ours[0]]
    assert (static_root / hashed).is_file() and hashed != ours[0]
    assert (static_root / (hashed + ".gz")).is_file()  # compressed by whitenoise at build time


def test_web_command_passes_gunicorns_check_config(build, stages):
    """The image's CMD with --check-config, from a copy of what the runtime stage copies into /app,
    with the runtime stage's ENV (paths moved into the test's directory) and the installed wheel."""
    final = stages[-1]
    image_root = build.tmp / "runtime"
    run_copies(final, build.context, image_root)
    env = {
        # The image's own paths (not temporary files of this machine) moved into the test's directory.
        key: str(image_root / value.lstrip("/")) if value.startswith(("/app", "/tmp")) else value  # noqa: S108
        for key, value in final.env().items()
    }
    Path(env["STATIC_ROOT"]).mkdir(parents=True, exist_ok=True)
    command = final.all("CMD")[-1].exec_form()
    result = _python(
        build,
        "-m",
        command[0],
        "--check-config",
        *command[1:],
        cwd=image_root / "app",
        SECRET_KEY="x" * 50,
        **env,
    )
    assert result.returncode == 0, result.stdout + result.stderr
