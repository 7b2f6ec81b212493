"""The README's tours as tests: its ```console blocks are read, each command is run against the
app as the reader's shell would run it, and each answer is compared with what the README
prints.

The shell understood is the small part of bash and curl the README uses: `$ ` command lines
(with `\\` continuations) followed by what they print; `NAME=value` assignments, with `$NAME`,
`${NAME}` and `$(...)` expanded in unquoted and double-quoted text (never in single quotes);
`curl` with -s, -S, -i, -X, -H, -d/--data/--data-binary (`@file`), -F (`field=@file`), -u,
-D -, -o FILE; `cat FILE`; `jq [-r] FILTER [FILE]` with paths (`.a.b[0]`, `.items[]`),
`select(.key == "value")` and pipes; `cmd | jq ...` pipelines; `for i in $(seq N); do CMD;
done`; `$ # comments`.

What an answer must match (`Matcher`): what the README prints, where "…" elides (list items,
members, any part of a string or CSV line, whole CSV lines; a list with "…" holds the items
shown in any order); ids (UUIDs, also abbreviated as `0c6e3424-…`), timestamps, dates and
academic-year labels, UPNs, request ids, client ids, secrets and tokens by their shape;
cursors, versions, ETags and Retry-After by presence; academic years (start years) shifted by
as many years as the calendar has moved since the README's `YEAR=`; every other number and
string exactly. The status must be the one printed (`-i`, `-D -`), else the problem's
`status`, else a 2xx (also for a request inside `$(...)` or piped on); a file's answer (`-o`:
an XLSX, an SVG) is checked by its status and headers only.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

ELIDED = "…"
BASE_URL = "http://127.0.0.1:8000"
UUID = r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}"
# Printed values matched by their shape, not their value: (pattern in the README, pattern of
# what the service may answer), tried in order.
SHAPES = (
    (UUID, UUID),
    (r"[0-9a-f]{8}-…", UUID),
    (
        r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d+)?(?:Z|[+-]\d{2}:\d{2})?",
        r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d+)?(?:Z|[+-]\d{2}:\d{2})?",
    ),
    (r"\d{4}-\d{2}-\d{2}", r"\d{4}-\d{2}-\d{2}"),
    (r"\b\d{4}/\d{2}\b", r"\d{4}/\d{2}"),
    (r"\b[A-Z]\d{11}[0-9A-Z]\b", r"[A-Z]\d{11}[0-9A-Z]"),  # a UPN: it carries the year
    (r"\b[0-9a-f]{32}\b", r"[0-9a-f]{32}"),  # a request id
    (r"\bmbc_[0-9a-f]+", r"mbc_[0-9a-f]+"),  # an integration client's id
    (r"\bmbs_[A-Za-z0-9_-]+", r"mbs_[A-Za-z0-9_-]+"),  # its secret
    (r"\bmbr_[A-Za-z0-9_-]+", r"mbr_[A-Za-z0-9_-]+"),  # a refresh token
    (r"\beyJ[A-Za-z0-9_.-]*", r"eyJ[A-Za-z0-9_.-]*"),  # a token
)
SHAPE = re.compile("|".join(f"({printed})" for printed, _ in SHAPES))
# Members whose value moves with each install or each write: only whether there is one.
BY_PRESENCE = {"next_cursor", "endCursor", "version", "etag", "retry-after"}
YEARS = {"academic_year", "academicYear"}


@dataclass
class Step:
    """One command of a console block and what the README prints after it."""

    block: int
    command: str
    printed: str


@dataclass
class Answer:
    status: int
    headers: httpx.Headers
    body: bytes
    content_type: str = ""

    def json(self) -> Any:
        return json.loads(self.body)


@dataclass
class Ran:
    """What a command did: the text it printed, and the HTTP answer if it was a request."""

    output: str
    answer: Answer | None = None
    show_headers: bool = False
    to_file: bool = False


def console_blocks(text: str) -> list[str]:
    return re.findall(r"```console\n(.*?)```", text, re.S)


def steps(blocks: list[str], first: int = 0) -> list[Step]:
    """The commands of the blocks in order, each with the lines printed after it."""
    found: list[Step] = []
    for number, block in enumerate(blocks, start=first):
        lines = block.splitlines()
        index = 0
        while index < len(lines):
            line = lines[index]
            index += 1
            if not line.startswith("$ "):
                raise ValueError(f"block {number}: output before any command: {line!r}")
            command = line[2:]
            while (command.endswith("\\") or _open_quote(command)) and index < len(lines):
                if command.endswith("\\"):
                    command = command[:-1]
                command += "\n" + lines[index]
                index += 1
            printed = []
            while index < len(lines) and not lines[index].startswith("$ "):
                printed.append(lines[index])
                index += 1
            if not command.lstrip().startswith("#"):
                found.append(Step(number, command, "\n".join(printed)))
    return found


def _open_quote(command: str) -> bool:
    """Whether a quote is still open at the end of the line (the command goes on)."""
    quote, index = None, 0
    while index < len(command):
        char = command[index]
        if quote == "'":
            quote = None if char == "'" else quote
        elif char == "\\":
            index += 1
        elif quote == '"':
            quote = None if char == '"' else quote
        elif char in "'\"":
            quote = char
        index += 1
    return quote is not None


# --- the shell ----------------------------------------------------------------------------


class ShellError(Exception):
    pass


@dataclass
class Shell:
    """Runs the tour's commands against the app, keeping its variables and files."""

    client: httpx.AsyncClient
    variables: dict[str, str]
    workdir: Path
    answers: list[Ran] = field(default_factory=list)

    async def run(self, command: str) -> Ran:
        loop = re.fullmatch(r"for (\w+) in \$\(seq (\d+)\); do (.*); done", command.strip(), re.S)
        if loop:  # the same command n times, $i counting
            output = ""
            for count in range(1, int(loop.group(2)) + 1):
                self.variables[loop.group(1)] = str(count)
                output += (await self.run(loop.group(3))).output
            return Ran(output)
        assignment = re.match(r"([A-Za-z_]\w*)=(.*)\Z", command.strip(), re.S)
        if assignment:
            words = await self.words(assignment.group(2))
            if len(words) != 1 or len(words[0]) > 1:
                raise ShellError(f"cannot assign {command!r}")
            self.variables[assignment.group(1)] = words[0][0] if words[0] else ""
            return Ran("")
        return await self.pipeline(await self.words(command))

    async def capture(self, command: str) -> str:
        """What `$(command)` gives: its output, once its request (if any) has succeeded."""
        ran = await self.run(command)
        answer = ran.answer
        if answer is not None and not 200 <= answer.status < 300:
            raise ShellError(f"$({command}) was answered {answer.status}: {answer.body[:300]!r}")
        return ran.output.rstrip("\n")

    async def pipeline(self, segments: list[list[str]]) -> Ran:
        ran = Ran("")
        for number, argv in enumerate(segments):
            if not argv:
                raise ShellError("empty command")
            stdin = ran.output if number else None
            if ran.answer is not None and not 200 <= ran.answer.status < 300:
                raise ShellError(f"a request piped on was answered {ran.answer.status}")
            if argv[0] == "curl":
                ran = await self.curl(argv[1:])
            elif argv[0] == "jq":
                ran = Ran(self.jq(argv[1:], stdin))
            elif argv[0] == "cat":
                ran = Ran("".join(self.read(name).decode() for name in argv[1:]))
            else:
                raise ShellError(f"the tour's shell does not know {argv[0]!r}")
        self.answers.append(ran)
        return ran

    def path(self, name: str) -> Path:
        return self.workdir / name

    def read(self, name: str) -> bytes:
        return self.path(name).read_bytes()

    # Words: quotes, expansions and pipes, as bash reads them.
    async def words(self, text: str) -> list[list[str]]:
        segments: list[list[str]] = [[]]
        word: list[str] | None = None
        index = 0

        def add(part: str) -> None:
            nonlocal word
            word = (word or []) + [part]

        def end_word() -> None:
            nonlocal word
            if word is not None:
                segments[-1].append("".join(word))
            word = None

        while index < len(text):
            char = text[index]
            if char in " \t\n":
                end_word()
                index += 1
            elif char == "#" and word is None:
                break
            elif char == "|":
                end_word()
                segments.append([])
                index += 1
            elif char == "'":
                close = text.index("'", index + 1)
                add(text[index + 1 : close])
                index = close + 1
            elif char == '"':
                index += 1
                while text[index] != '"':
                    if text[index] == "\\" and text[index + 1] in '"\\$`':
                        add(text[index + 1])
                        index += 2
                    elif text[index] == "$":
                        value, index = await self.expand(text, index)
                        add(value)
                    else:
                        add(text[index])
                        index += 1
                add("")
                index += 1
            elif char == "\\":
                add(text[index + 1])
                index += 2
            elif char == "$":
                value, index = await self.expand(text, index)
                add(value)
            else:
                add(char)
                index += 1
        end_word()
        return segments

    async def expand(self, text: str, index: int) -> tuple[str, int]:
        """The value of the expansion at text[index] ('$'), and where the text goes on."""
        if text.startswith("$(", index):
            depth, end, quote = 0, index + 1, None
            while True:
                char = text[end]
                if quote:
                    quote = None if char == quote else quote
                elif char in "'\"":
                    quote = char
                elif char == "(":
                    depth += 1
                elif char == ")":
                    depth -= 1
                    if depth == 0:
                        break
                end += 1
            return await self.capture(text[index + 2 : end]), end + 1
        name = re.match(r"\$(?:\{(\w+)\}|(\w+))", text[index:])
        if name is None:
            return "$", index + 1
        key = name.group(1) or name.group(2)
        if key not in self.variables:
            raise ShellError(f"${key} is not set: the tour must set it, or `demo ids`")
        return self.variables[key], index + name.end()

    # curl, as the tour uses it.
    async def curl(self, args: list[str]) -> Ran:
        method: str | None = None
        headers: list[tuple[str, str]] = []
        data: list[str] = []
        binary: bytes | None = None
        form: list[tuple[str, str]] = []
        auth: tuple[str, str] | None = None
        show_headers = False
        output: str | None = None
        url: str | None = None
        items = iter(args)
        for arg in items:
            if arg in ("-s", "-S", "-sS", "--silent"):
                continue
            if arg == "-i":
                show_headers = True
            elif arg == "-X":
                method = next(items)
            elif arg == "-H":
                name, _, value = next(items).partition(":")
                headers.append((name.strip(), value.strip()))
            elif arg in ("-d", "--data"):
                value = next(items)
                if value.startswith("@"):
                    value = self.read(value[1:]).decode().replace("\r", "").replace("\n", "")
                data.append(value)
            elif arg == "--data-binary":
                value = next(items)
                binary = self.read(value[1:]) if value.startswith("@") else value.encode()
            elif arg == "-F":
                name, _, value = next(items).partition("=")
                form.append((name, value))
            elif arg == "-u":
                user, _, password = next(items).partition(":")
                auth = (user, password)
            elif arg == "-D":
                if next(items) != "-":
                    raise ShellError("-D only to standard output")
                show_headers = True
            elif arg == "-o":
                output = next(items)
            elif arg.startswith("-"):
                raise ShellError(f"the tour's curl does not know {arg}")
            else:
                url = arg
        if url is None or not url.startswith(BASE_URL):
            raise ShellError(f"not a request to the service: {url}")
        path = url[len(BASE_URL) :]
        named = {name.lower() for name, _ in headers}
        request: dict[str, Any] = {}
        if form:
            files = {
                name: (Path(value[1:]).name, self.read(value[1:]))
                for name, value in form
                if value.startswith("@")
            }
            request["files"] = files
            request["data"] = {name: value for name, value in form if not value.startswith("@")}
        elif binary is not None or data:
            request["content"] = binary if binary is not None else "&".join(data).encode()
            if "content-type" not in named:
                headers.append(("Content-Type", "application/x-www-form-urlencoded"))
        if auth is not None:
            request["auth"] = auth
        method = method or ("POST" if request else "GET")
        response = await self.client.request(method, path, headers=headers, **request)
        answer = Answer(
            response.status_code,
            response.headers,
            response.content,
            response.headers.get("content-type", ""),
        )
        head = ""
        if show_headers:
            lines = [f"HTTP/1.1 {response.status_code} {response.reason_phrase}"]
            lines += [f"{name}: {value}" for name, value in response.headers.items()]
            head = "\n".join(lines) + "\n\n"
        body = response.content
        if output is not None:
            self.path(output).write_bytes(body)
            return Ran(head, answer, show_headers, to_file=True)
        return Ran(head + body.decode(errors="replace"), answer, show_headers)

    # jq, as the tour uses it.
    def jq(self, args: list[str], stdin: str | None) -> str:
        raw = "-r" in args
        rest = [a for a in args if a not in ("-r", "-c")]
        program, *files = rest
        text = self.read(files[0]).decode() if files else stdin
        if text is None:
            raise ShellError("jq has nothing to read")
        results = list(_jq(program, [json.loads(text)]))
        return "".join((r if raw and isinstance(r, str) else json.dumps(r)) + "\n" for r in results)


def _jq(program: str, inputs: list[Any]) -> Iterator[Any]:
    values = inputs
    for stage in (s.strip() for s in program.split("|")):
        select = re.fullmatch(r'select\((\.[\w.]+) == "([^"]*)"\)', stage)
        if select:
            values = [v for v in values if _path(select.group(1), v) == [select.group(2)]]
            continue
        values = [out for v in values for out in _path(stage, v)]
    yield from values


def _path(path: str, value: Any) -> list[Any]:
    if not path.startswith("."):
        raise ShellError(f"the tour's jq does not know {path!r}")
    found = [value]
    for name, index, _every in re.findall(
        r"\.?(\w+)|\[(\d+)\]|\[(\])", path[1:] if path != "." else ""
    ):
        if name:
            found = [v.get(name) if isinstance(v, dict) else None for v in found]
        elif index:
            found = [v[int(index)] for v in found]
        else:
            found = [item for v in found for item in (v.values() if isinstance(v, dict) else v)]
    return found


# --- what the README prints, and whether an answer matches it --------------------------------


@dataclass
class Matcher:
    """Compares answers with the README's printed ones (see the module's docstring)."""

    year_shift: int = 0

    def text(self, shown: str, found: str) -> bool:
        """A printed string or header against the answer's: shapes, "…" for any text."""
        pattern = []
        position = 0
        for match in SHAPE.finditer(shown):
            pattern.append(self._literal(shown[position : match.start()]))
            kind = next(i for i, group in enumerate(match.groups()) if group is not None)
            pattern.append(f"(?:{SHAPES[kind][1]})")
            position = match.end()
        pattern.append(self._literal(shown[position:]))
        return re.fullmatch("".join(pattern), found, re.S) is not None

    @staticmethod
    def _literal(text: str) -> str:
        return ".*?".join(re.escape(part) for part in text.split(ELIDED))

    def json(self, shown: Any, found: Any, key: str | None = None) -> bool:
        if shown == ELIDED:
            return True
        if key in BY_PRESENCE:
            return (shown is None) == (found is None)
        if key in YEARS and isinstance(shown, int) and not isinstance(shown, bool):
            return found == shown + self.year_shift
        if isinstance(shown, dict):
            if not isinstance(found, dict):
                return False
            keys = [k for k in shown if k != ELIDED]
            if ELIDED not in shown and set(found) != set(keys):
                return False
            return all(k in found and self.json(shown[k], found[k], k) for k in keys)
        if isinstance(shown, list):
            if not isinstance(found, list):
                return False
            parts = [item for item in shown if item != ELIDED]
            if len(parts) == len(shown):
                return len(found) == len(shown) and all(
                    self.json(s, f, key) for s, f in zip(shown, found, strict=True)
                )
            # The items shown among the others, in any order (lists of rows sorted by ids
            # come in a different order on each install), each a different one.
            left = list(found)
            for part in parts:
                match = next((i for i, item in enumerate(left) if self.json(part, item, key)), None)
                if match is None:
                    return False
                del left[match]
            return True
        if isinstance(shown, str):
            return isinstance(found, str) and self.text(shown, found)
        if isinstance(shown, bool) or shown is None:
            return shown is found
        if isinstance(shown, int | float):
            return isinstance(found, int | float) and not isinstance(found, bool) and shown == found
        return False

    def lines(self, shown: list[str], found: list[str]) -> bool:
        """Line by line; a line that is only "…" stands for any number of lines."""
        if not shown:
            return not found
        if shown[0].strip() == ELIDED:
            return any(self.lines(shown[1:], found[start:]) for start in range(len(found) + 1))
        return bool(found) and self.text(shown[0], found[0]) and self.lines(shown[1:], found[1:])


def shown_json(printed: str) -> Any:
    """An answer as the README prints it: JSON where "…" stands for elided list items, members
    (then the object holds the member "…") or values."""
    value, end = _Printed(printed).value(0)
    if printed[end:].strip():
        raise json.JSONDecodeError("text after the answer", printed, end)
    return value


@dataclass
class _Printed:
    text: str

    def skip(self, index: int) -> int:
        while index < len(self.text) and self.text[index] in " \t\r\n":
            index += 1
        return index

    def value(self, index: int) -> tuple[Any, int]:
        index = self.skip(index)
        char = self.text[index : index + 1]
        if char == ELIDED:
            return ELIDED, index + 1
        if char == "{":
            return self.members(index + 1)
        if char == "[":
            return self.items(index + 1)
        return json.JSONDecoder().raw_decode(self.text, index)

    def members(self, index: int) -> tuple[dict[str, Any], int]:
        found: dict[str, Any] = {}
        while True:
            index = self.skip(index)
            char = self.text[index : index + 1]
            if char == "}":
                return found, index + 1
            if char == ",":
                index += 1
            elif char == ELIDED:
                found[ELIDED] = ELIDED
                index += 1
            else:
                key, index = json.JSONDecoder().raw_decode(self.text, index)
                index = self.skip(index)
                if self.text[index : index + 1] != ":":
                    raise json.JSONDecodeError("expected ':'", self.text, index)
                found[key], index = self.value(index + 1)

    def items(self, index: int) -> tuple[list[Any], int]:
        found: list[Any] = []
        while True:
            index = self.skip(index)
            char = self.text[index : index + 1]
            if char == "]":
                return found, index + 1
            if char == ",":
                index += 1
            else:
                item, index = self.value(index)
                found.append(item)


def check(step: Step, ran: Ran, matcher: Matcher) -> str | None:
    """Why what the command did differs from what the README prints after it (None: it does
    not)."""
    printed = step.printed
    answer = ran.answer
    if answer is None:  # cat, jq, an assignment: the text itself
        if not printed.strip():
            return None
        try:
            ok = matcher.json(shown_json(printed), json.loads(ran.output))
        except ValueError:
            ok = matcher.lines(printed.splitlines(), ran.output.rstrip("\n").splitlines())
        return None if ok else f"printed:\n{printed}\nbut it prints:\n{ran.output}"
    body = printed
    if ran.show_headers:
        head, _, body = printed.partition("\n\n")
        status_line, *header_lines = head.strip().splitlines()
        status = re.match(r"HTTP/[\d.]+ (\d{3})", status_line)
        if status is None or int(status.group(1)) != answer.status:
            return f"status {answer.status}, not {status_line!r}: {answer.body[:500]!r}"
        for line in header_lines:
            name, _, value = line.partition(":")
            name, value = name.strip().lower(), value.strip()
            if name not in answer.headers:
                return f"no {name} header"
            if name in BY_PRESENCE:
                continue
            if not matcher.text(value, answer.headers[name]):
                return f"{name}: {answer.headers[name]}, not {value}"
    if ran.to_file or not body.strip():
        if not ran.show_headers and not 200 <= answer.status < 300:
            return f"status {answer.status}: {answer.body[:500]!r}"
        return None
    media = answer.content_type.split(";")[0]
    if media.endswith("json"):
        try:
            shown = shown_json(body)
        except json.JSONDecodeError as error:
            return f"the README's answer is not JSON ({error}):\n{body}"
        expected = shown.get("status") if isinstance(shown, dict) and "type" in shown else None
        if not ran.show_headers:
            if expected is not None and answer.status != expected:
                return f"status {answer.status}, not {expected}"
            if expected is None and not 200 <= answer.status < 300:
                return f"status {answer.status}: {answer.body[:500]!r}"
        found = answer.json()
        if matcher.json(shown, found):
            return None
        return f"printed:\n{body}\nbut the answer is:\n{json.dumps(found, indent=1)}"
    if media == "text/csv":
        found_lines = answer.body.decode("utf-8-sig").splitlines()
        if matcher.lines(body.splitlines(), found_lines):
            return None
        return f"printed:\n{body}\nbut the answer is:\n{answer.body.decode()}"
    return f"cannot compare a {media} answer"
