"""Command filters on shells and interpreters reading the user's input
(docs/COMMAND-FILTER.md, "Input of shells and interpreters"): a shell
without a terminal has its input checked command by command, an exec that
starts a shell on a terminal gets the interactive filter, and a program
whose input cannot be analysed (python3 reading its program from stdin) is
refused where a filter applies; with no filter, automation is untouched.
Real OpenSSH client -> gatehouse serve -> real sshd with bash.

Each test marked "regression" failed before the input filter existed: the
file was deleted although a reject filter on `rm` applied."""
import os
import threading
import time

import pytest

from sshenv import *  # noqa: F401,F403 (fixtures)
from sshenv import PROMPT_RE, ssh_run, ssh_spawn, wait_for
from cmdfilterenv import DIRECT, REJECTED, victim, danger, pending_request  # noqa: F401 (fixtures)

# network parsers and protocols: the sanitizer run takes this module too
pytestmark_protocol = True


def run(g, *cmd, input="", extra=(), timeout=60):
    return ssh_run(g, DIRECT, *cmd, password=g.alice_pw, input=input, extra=extra,
                   timeout=timeout)


def commands(g):
    return [(e["method"], e["result"], e["reason"], e["detail"]) for e in g.events("command")]


def assert_refused(g, p, victim, method="stdin"):
    """The session was refused: exit 126, one line of reason on stderr, the
    file kept, a reject event of METHOD."""
    assert p.returncode == 126, (p.returncode, p.stdout, p.stderr)
    assert "gatehouse: " in p.stderr or "command" in p.stderr, p.stderr
    assert "rejected" in p.stderr, p.stderr
    assert os.path.exists(victim)
    rej = [c for c in commands(g) if c[1] == "reject"]
    assert rej and rej[-1][0] == method, commands(g)


# ---- the three reproductions -------------------------------------------------

def test_shell_without_terminal(danger, victim):
    """Regression: `echo 'rm -f F' | ssh -T user@account@asset` ran rm."""
    g = danger
    p = run(g, input=f"rm -f {victim}\n", extra=("-T",))
    assert_refused(g, p, victim)
    assert REJECTED in p.stderr
    assert p.stderr.count("\n") == 1, p.stderr
    assert ("stdin", "reject", "no-danger", f'cmd="rm -f {victim}" group=danger') \
        in commands(g)
    def ends():
        return [e for e in g.events("session") if e["result"] == "end"]
    # the client has its exit status before the worker has written the end
    assert wait_for(ends, timeout=15), g.events("session")
    assert ends()[-1]["reason"] == "command refused", ends()


def test_exec_bash_reading_stdin(danger, victim):
    """Regression: `echo 'rm -f F' | ssh user@account@asset bash` ran rm."""
    g = danger
    p = run(g, "bash", input=f"rm -f {victim}\n")
    assert_refused(g, p, victim)
    assert REJECTED in p.stderr
    # the exec itself was accepted, its input was not
    assert [c[:2] for c in commands(g)] == [("exec", "accept"), ("stdin", "reject")]


def test_exec_bash_i_on_terminal(danger, victim):
    """Regression: `ssh -tt user@account@asset 'bash -i'` and then typing
    `rm -f F` ran rm: an exec starting a shell on a terminal gets the
    interactive filter."""
    g = danger
    c = ssh_spawn(g, DIRECT, "bash -i", password=g.alice_pw, timeout=30)
    c.expect(PROMPT_RE)
    c.sendline(f"rm -f {victim}")
    c.expect(REJECTED)
    c.expect(PROMPT_RE)
    c.sendline("echo still-$((20+1))")
    c.expect("still-21")
    c.expect(PROMPT_RE)
    c.sendline("exit")
    import pexpect
    c.expect(pexpect.EOF)
    c.close()
    assert os.path.exists(victim)
    assert ("interactive", "reject", "no-danger", f'cmd="rm -f {victim}" group=danger') \
        in commands(g)


# ---- what passes, in order; what follows a refusal does not -----------------

def test_accepted_lines_run_in_order(danger, victim):
    """Accepted commands reach the shell unchanged and in order, the last
    one without a newline too; each is a stdin event."""
    g = danger
    script = "echo one-$((0+1))\n\n# a comment\nfor i in a b; do\n  echo \"it-$i\"\ndone\n" \
             "cat <<'EOF'\nrm -f literal text\nEOF\necho last-$((2+1))"
    p = run(g, input=script, extra=("-T",))
    assert p.returncode == 0, (p.stdout, p.stderr)
    assert p.stdout.split("\n") == ["one-1", "it-a", "it-b", "rm -f literal text", "last-3", ""]
    got = [c for c in commands(g) if c[0] == "stdin"]
    assert all(c[1] == "accept" for c in got), got
    assert [c[3] for c in got] == [
        'cmd="echo one-$((0+1))"', 'cmd="# a comment"',
        'cmd="for i in a b; do\\x0a  echo \\x22it-$i\\x22\\x0adone"',
        'cmd="cat <<\'EOF\'\\x0arm -f literal text\\x0aEOF"', 'cmd="echo last-$((2+1))"']
    assert os.path.exists(victim)


def test_nothing_after_a_refused_line(danger, victim):
    """The commands before a rejected line run; the rejected one and
    everything after it never reach the shell."""
    g = danger
    after = victim + ".after"
    p = run(g, "bash", input=f"echo before-$((1+1))\nrm -f {victim}\ntouch {after}\n")
    assert_refused(g, p, victim)
    assert "before-2" in p.stdout
    assert not os.path.exists(after)


def test_command_too_long_to_hold_refused(danger, victim):
    """A command longer than the line filter holds (64 KiB, here a
    here-document that never ends in time) is not analysable: refused, with
    that reason in the audit (not "a program would read its code")."""
    g = danger
    body = "x" * 1000 + "\n"
    p = run(g, "bash", input=f"cat <<E >/dev/null\n{body * 80}E\nrm -f {victim}\n")
    assert_refused(g, p, victim)
    ev = [c for c in commands(g) if c[0] == "stdin" and c[1] == "reject"]
    assert ev and "longer than the line filter holds" in (ev[-1][3] or ""), ev


@pytest.mark.parametrize("script", [
    "r\\\nm -f {v}\n",                                 # backslash-newline joins the word
    "ls /tmp >/dev/null &&\nrm -f {v}\n",              # a line ending in an operator
    "echo rm -f {v} | sh\n",                           # a pipe into a shell
    "if true; then\n  rm -f {v}\nfi\n",                # an unfinished compound command
    "f() {{\n rm -f {v}\n}}\nf\n",                     # a function body
    "rm -f \\\n  {v}\n",                                # the operand on the next line
    "echo 'a\n'; rm -f {v}\n",                         # an open quote
    "cat <<E\n'$(rm -f {v})'\nE\n",                    # a here-document body (quotes are text there)
    "bash <<'E'\nrm -f {v}\nE\n",                      # a here-document fed to a shell
    "cat <<E\r\nE\n'$(rm -f {v})'\nE\r\n",             # its delimiter is E\r, not E
    "rm -f {v}",                                       # the last line without a newline
], ids=["backslash", "operator", "pipe-to-shell", "compound", "function", "operand", "quote",
        "heredoc", "heredoc-shell", "heredoc-cr", "no-newline"])
def test_continuation_and_heredocs(danger, victim, script):
    """Regression: continuation lines and here-documents are decided as one
    command, as the shell reads them (checking line by line missed `r\\`
    then `m -f F`, and a here-document body line `'$(rm -f F)'`)."""
    g = danger
    p = run(g, "bash -s", input=script.format(v=victim))
    assert p.returncode == 126, (p.returncode, p.stdout, p.stderr)
    assert "rejected" in p.stderr, p.stderr
    assert os.path.exists(victim)
    assert [c[1] for c in commands(g) if c[0] == "stdin"][-1] == "reject"


def test_pipe_into_shell_on_next_line(danger, victim):
    """The line filter hands `echo rm -f F |\\nsh\\n` to the splitter as one
    command (as the shell reads it), and the splitter keeps the pipe across
    the newline: `sh` reads its commands from a pipe, which is dynamic.
    Failed before the splitter kept pipes across newlines."""
    g = danger
    p = run(g, "sh -s", input=f"echo rm -f {victim} |\nsh\n")
    assert p.returncode == 126 and os.path.exists(victim)


def test_many_commands_in_order(danger):
    """A script of many commands goes through whole and in order (each one
    decided and logged); the measured time is printed."""
    g = danger
    n = 1500
    script = "".join(f"echo line-{i}\n" for i in range(n))
    t0 = time.monotonic()
    p = run(g, "bash -s", input=script, timeout=300)
    took = time.monotonic() - t0
    assert p.returncode == 0, p.stderr
    assert p.stdout.split("\n")[:-1] == [f"line-{i}" for i in range(n)]
    got = [c for c in commands(g) if c[0] == "stdin"]
    assert len(got) == n and all(c[1] == "accept" for c in got)
    print(f"{n} input commands through the filter in {took:.2f} s")


@pytest.mark.parametrize("decision", ["approve", "deny"])
def test_review_of_an_input_command(ghenv, victim, decision):
    """Review applies to input commands too: the input is held (the commands
    before it ran) until a second CLI process decides; approved runs, denied
    ends the input (exit 126) and the next command never runs."""
    g = ghenv
    g.cli("cmdgroup", "add", "hold", "touch")
    g.cli("cmdfilter", "add", "hold-touch", "--cmdgroup", "hold", "--action", "review")
    mark = victim + ".mark"
    after = victim + ".after"
    res = {}

    def go():
        res["p"] = run(g, input=f"echo first\ntouch {mark}\necho x > {after}\n",
                       extra=("-T",), timeout=120)

    t = threading.Thread(target=go)
    t.start()
    try:
        found = pending_request(g)
        assert found["command"] == f"touch {mark}" and found["filter"] == "hold-touch"
        assert not os.path.exists(mark) and not os.path.exists(after)  # held
        g.cli("request", decision, str(found["id"]))
        t.join(90)
        p = res["p"]
        assert "held for review" in p.stderr and "first" in p.stdout
        if decision == "approve":
            assert p.returncode == 0, p.stderr
            assert os.path.exists(mark) and os.path.exists(after)
        else:
            assert p.returncode == 126, (p.returncode, p.stderr)
            assert "denied by the reviewer" in p.stderr
            assert not os.path.exists(mark) and not os.path.exists(after)
        results = [c[1] for c in commands(g) if c[0] == "stdin"]
        want = {"approve": ["accept", "review-approved", "accept"],
                "deny": ["accept", "review-denied"]}[decision]
        assert results == want, results
    finally:
        t.join(90)


def test_review_of_a_dynamic_input_command(ghenv):
    """Regression: a command on a shell's input that cannot be analysed,
    held for review (only a review filter applies: cmdfilter_dynamic auto),
    is filed and told with filter "dynamic" as exec files it, and its event
    names "dynamic" with the reason. Failed before the three callers shared
    gh_cmdguard_settle: the request had no filter and the event no reason."""
    g = ghenv
    g.cli("cmdgroup", "add", "hold", "touch")
    g.cli("cmdfilter", "add", "hold-touch", "--cmdgroup", "hold", "--action", "review")
    res = {}

    def go():
        res["p"] = run(g, input="x=3; echo n-$((x))\necho after\n", extra=("-T",),
                       timeout=120)

    t = threading.Thread(target=go)
    t.start()
    try:
        found = pending_request(g)
        assert found["command"] == "x=3; echo n-$((x))", found
        assert found["filter"] == "dynamic", found
        g.cli("request", "deny", str(found["id"]))
        t.join(90)
        p = res["p"]
        assert p.returncode == 126, (p.returncode, p.stdout, p.stderr)
        assert "held for review (filter dynamic)" in p.stderr, p.stderr
        assert "denied by the reviewer (filter dynamic)" in p.stderr, p.stderr
        assert "n-3" not in p.stdout and "after" not in p.stdout, p.stdout
        e = [c for c in commands(g) if c[0] == "stdin"][-1]
        assert e[1:3] == ("review-denied", "dynamic"), e
        assert 'dynamic="arithmetic on a variable' in e[3], e
    finally:
        t.join(90)


def test_warn_only_flags_and_runs(ghenv, victim):
    """With only a warn filter, input commands run and are flagged; what
    cannot be analysed (python3 reading stdin) runs, flagged too."""
    g = ghenv
    g.cli("cmdgroup", "add", "danger", "rm")
    g.cli("cmdfilter", "add", "watch-rm", "--cmdgroup", "danger", "--action", "warn")
    p = run(g, input=f"rm -f {victim}\n", extra=("-T",))
    assert p.returncode == 0, p.stderr
    assert not os.path.exists(victim)
    assert ("stdin", "warn", "watch-rm", f'cmd="rm -f {victim}" group=danger') in commands(g)
    p = run(g, "python3 -", input="print(6 * 7)\n")
    assert p.returncode == 0 and p.stdout.strip() == "42", p.stderr
    assert commands(g)[-1][:3] == ("exec", "warn", "dynamic")


def test_subscript_code(danger, victim):
    """The line filter hands `a[\\n'$(rm -f F)']=1` to the splitter as one
    command (bash reads NAME[ on to its ]: cut line by line, the second
    line alone is a quoted word), and the splitter takes a NAME[ left open
    at the newline as a subscript evaluated as code (dynamic). Failed before
    src/filter/cmdsplit.c's opens_subscript."""
    g = danger
    p = run(g, "bash -s", input=f"a[\n'$(rm -f {victim})']=1\n")
    assert p.returncode == 126 and os.path.exists(victim)


# ---- what cannot be analysed ---------------------------------------------------

@pytest.mark.parametrize("cmd", ["python3", "python3 -", "/bin/sh -c '/usr/bin/python3 && sleep 0'",
                                 "perl"])
def test_interpreter_on_stdin_refused(danger, victim, cmd):
    """Regression: a program read from stdin by an interpreter the filter
    cannot read (python3 -, perl) is refused, before the target is reached,
    where a reject filter applies."""
    g = danger
    prog = f'import os; os.remove("{victim}")\n' if "python" in cmd else f'unlink "{victim}";\n'
    p = run(g, cmd, input=prog)
    assert p.returncode == 126, (p.returncode, p.stdout, p.stderr)
    assert "cannot be analysed" in p.stderr, p.stderr
    assert p.stderr.count("\n") == 1, p.stderr
    assert os.path.exists(victim)
    assert [c[:2] for c in commands(g)] == [("exec", "reject")]
    assert not [e for e in g.events("session") if e["result"] == "start"]


def test_interpreter_with_program_in_arguments_runs(danger):
    """An interpreter given its program (a script or -c) reads data on stdin:
    not refused (its arguments are the documented limit)."""
    g = danger
    p = run(g, "python3 -c 'import sys; print(len(sys.stdin.read()))'", input="rm -f x\n")
    assert p.returncode == 0, p.stderr
    assert p.stdout.strip() == "8"


def test_data_on_stdin_untouched(danger):
    """A command reading data (cat, sha256sum) gets its input byte for byte
    under a filter: only shells and interpreters are filtered."""
    g = danger
    blob = "rm -f /etc/passwd\n" * 1000 + "\x00\x01 trailing"
    p = run(g, "cat", input=blob)
    assert p.returncode == 0, p.stderr
    assert p.stdout == blob


# ---- no filter: unchanged -----------------------------------------------------

def test_automation_without_filter(ghenv, victim):
    """With no filter applying, an Ansible-like `/bin/sh -c 'python3 ...'`
    with its module on stdin works, and so does a shell without a terminal
    (nothing is checked, nothing logged as a command from the input)."""
    g = ghenv
    module = "import json, sys\nprint(json.dumps({'changed': False, 'n': 6 * 7}))\n"
    p = run(g, "/bin/sh -c '/usr/bin/python3 && sleep 0'", input=module)
    assert p.returncode == 0, p.stderr
    assert p.stdout.strip() == '{"changed": false, "n": 42}'
    p = run(g, input=f"echo hi-$((1+1))\nrm -f {victim}\n", extra=("-T",))
    assert p.returncode == 0, p.stderr
    assert "hi-2" in p.stdout
    assert not os.path.exists(victim)
    assert not [c for c in commands(g) if c[0] == "stdin"]


def test_through_a_jump(danger, victim, tmp_path):
    """The inner login of `ssh -J` is the same session core: `echo 'rm -f F'
    | ssh -J gh account@asset bash` is refused like the direct login."""
    import subprocess
    from test_jump import _env, _setup
    g = danger
    cfg, _ = _setup(g, tmp_path)
    env = _env()
    env.update(SSH_ASKPASS=g.askpass, SSH_ASKPASS_REQUIRE="force", GH_TEST_PASSWORD=g.alice_pw,
               DISPLAY=env.get("DISPLAY", ":0"))
    p = subprocess.run(["ssh", "-F", cfg, "web01", "bash"], input=f"echo in-$((2*3))\nrm -f {victim}\n",
                       capture_output=True, text=True, env=env, timeout=60, start_new_session=True)
    assert p.returncode == 126, (p.returncode, p.stdout, p.stderr)
    assert "in-6" in p.stdout and REJECTED in p.stderr
    assert os.path.exists(victim)
    assert [c[:2] for c in commands(g) if c[0] == "stdin"] == [("stdin", "accept"), ("stdin", "reject")]
