"""Command filters in interactive shells end to end (pexpect): the line is
read off the terminal screen at Enter, a rejected one is cancelled and
never runs, pastes are checked line by line, full-screen programs pause the
filter (and the audit log says so). Real OpenSSH client -> gatehouse serve
-> real sshd with bash."""
import os

import pytest

from sshenv import *  # noqa: F401,F403 (fixtures)
from sshenv import PROMPT_RE, ssh_spawn, wait_for
from cmdfilterenv import DIRECT, REJECTED, victim, danger, pending_request  # noqa: F401 (fixtures)

# network parsers and protocols: the sanitizer run takes this module too
pytestmark_protocol = True

DYNAMIC_REFUSED = "rejected: it cannot be analysed \\(dynamic: "


def shell(g):
    c = ssh_spawn(g, DIRECT, password=g.alice_pw, timeout=30)
    c.expect(PROMPT_RE)
    return c


def bye(c):
    c.sendline("exit")
    c.expect(pexpect_eof())
    c.close()


def pexpect_eof():
    import pexpect
    return pexpect.EOF


def commands(g):
    return [(e["method"], e["result"], e["reason"], e["detail"]) for e in g.events("command")]


def test_interactive_reject_rm(danger, victim):
    g = danger
    c = shell(g)
    c.sendline(f"rm -rf {victim}")
    c.expect(REJECTED)
    c.expect(PROMPT_RE)
    c.sendline(f"cat {victim}")  # the session goes on; the file is there
    c.expect("keep")
    c.expect(PROMPT_RE)
    bye(c)
    assert os.path.exists(victim)
    ev = commands(g)
    assert ("interactive", "reject", "no-danger", f'cmd="rm -rf {victim}" group=danger') in ev
    assert ("interactive", "accept", None, f'cmd="cat {victim}"') in ev
    # the message is in the recording too (what the user saw)
    assert wait_for(lambda: any(s["ended_at"] for s in g.sessions()), timeout=15)


def test_interactive_separator_and_substitution(danger, victim):
    g = danger
    c = shell(g)
    for line in (f"ls /tmp >/dev/null;rm -f {victim}", f"$(echo rm) -f {victim}",
                 f"bash -c 'rm -f {victim}'",
                 f"echo cm0gLWYg | base64 -d | sh -s {victim}"):
        c.sendline(line)
        c.expect(REJECTED if "$(" not in line and "| sh" not in line
                 else "rejected: it cannot be analysed|rejected by command filter")
        c.expect(PROMPT_RE)
    bye(c)
    assert os.path.exists(victim)
    results = [e[1] for e in commands(g)]
    assert results.count("reject") == 4


def test_interactive_paste_line_by_line(danger, victim):
    g = danger
    c = shell(g)
    c.send(f"echo one-$((0+1))\nrm -f {victim}\necho two-$((1+1))\n")
    c.expect("one-1")
    c.expect(REJECTED)
    c.expect("the rest of the input was discarded")
    c.expect(PROMPT_RE)
    c.sendline("echo three-$((1+2))")
    c.expect("three-3")
    c.expect(PROMPT_RE)
    seen = c.before
    bye(c)
    assert os.path.exists(victim)
    assert "two-2" not in seen
    ev = commands(g)
    assert [(e[1], e[3]) for e in ev] == [
        ("accept", 'cmd="echo one-$((0+1))"'), ("reject", f'cmd="rm -f {victim}" group=danger'),
        ("accept", 'cmd="echo three-$((1+2))"'), ("accept", 'cmd="exit"')]


def test_interactive_ctrl_c_after_whitelisted(ghenv, victim):
    g = ghenv
    g.cli("cmdgroup", "add", "ro", "ls", "echo", "cat")
    g.cli("cmdgroup", "add", "danger", "rm")
    g.cli("cmdfilter", "add", "ro", "--cmdgroup", "ro", "--action", "accept", "--priority", "1")
    g.cli("cmdfilter", "add", "no-danger", "--cmdgroup", "danger", "--action", "reject")
    c = shell(g)
    c.send("ls")            # a whitelisted command, typed but not run
    c.send("\x03")          # cancelled: the next line is judged on its own
    c.expect(PROMPT_RE)
    c.sendline(f"rm -f {victim}")
    c.expect(REJECTED)
    c.expect(PROMPT_RE)
    bye(c)
    assert os.path.exists(victim)


def test_interactive_warn_flagged(ghenv):
    g = ghenv
    g.cli("cmdgroup", "add", "sys", "uname")
    g.cli("cmdfilter", "add", "watch-sys", "--cmdgroup", "sys", "--action", "warn")
    c = shell(g)
    c.sendline("uname -s")
    c.expect("Linux")
    c.expect(PROMPT_RE)
    bye(c)
    assert ("interactive", "warn", "watch-sys", 'cmd="uname -s" group=sys') in commands(g)
    assert wait_for(lambda: "flagged by command filter watch-sys" in g.read_log(), timeout=10)


def test_interactive_vim_shell_escape_not_caught(danger, victim):
    """Full-screen programs pause the filter: vim's :!rm runs (bypass), and
    the pause is in the audit log."""
    g = danger
    c = shell(g)
    c.sendline("vim -u NONE -N")
    c.expect(r"\x1b\[\?1049h|VIM")
    wait_for(lambda: any(e[1] == "paused" for e in commands(g)), timeout=10)
    c.send(f":!rm -f {victim}\r")
    c.expect("Press ENTER|continue")
    c.send("\r")
    c.send(":q!\r")
    c.expect(PROMPT_RE)
    bye(c)
    assert not os.path.exists(victim)
    ev = commands(g)
    assert ("interactive", "paused", "alternate screen", 'cmd=""') in ev
    assert ("interactive", "resumed", "alternate screen", 'cmd=""') in ev


def test_interactive_script_file(danger, victim, tmp_path):
    """A shell running a script file is dynamic (its contents are unknown):
    refused under a reject filter. A script run by its own path is a
    program like any other: not caught (filter it by name or path)."""
    g = danger
    script = f"{os.path.dirname(victim)}/s.sh"
    with open(script, "w") as f:
        f.write(f"rm -f {victim}\n")
    os.chmod(script, 0o755)
    c = shell(g)
    c.sendline(f"sh {script}")
    c.expect(DYNAMIC_REFUSED + "shell running a script")
    c.expect(PROMPT_RE)
    assert os.path.exists(victim)
    c.sendline(script)
    c.expect(PROMPT_RE)
    bye(c)
    assert not os.path.exists(victim)
    ev = commands(g)
    assert ("interactive", "accept", None, f'cmd="{script}"') in ev
    assert [e[1:3] for e in ev if e[3].startswith(f'cmd="sh {script}"')] == [("reject", "dynamic")]


@pytest.mark.parametrize("decision", ["approve", "deny"])
def test_interactive_review(ghenv, victim, decision):
    g = ghenv
    g.cli("cmdgroup", "add", "hold", "rm")
    g.cli("cmdfilter", "add", "hold-rm", "--cmdgroup", "hold", "--action", "review")
    c = shell(g)
    c.sendline(f"rm -f {victim}")
    c.expect(r"held for review \(filter hold-rm\): request (\d+)")
    req = pending_request(g)
    assert req["command"] == f"rm -f {victim}" and str(req["id"]) == c.match.group(1)
    assert os.path.exists(victim)
    g.cli("request", decision, str(req["id"]))  # a second CLI process decides
    if decision == "deny":
        c.expect("denied by the reviewer")
    c.expect(PROMPT_RE)
    c.sendline("echo after-$((2+3))")
    c.expect("after-5")
    c.expect(PROMPT_RE)
    bye(c)
    assert os.path.exists(victim) == (decision == "deny")
    want = "review-approved" if decision == "approve" else "review-denied"
    assert ("interactive", want, "hold-rm", f'cmd="rm -f {victim}" group=hold') in commands(g)


def test_interactive_review_of_a_dynamic_line(ghenv):
    """Regression: a terminal line that cannot be analysed, held for review
    (only a review filter applies: cmdfilter_dynamic auto), is filed and
    told with filter "dynamic" as exec files it. Failed before the three
    callers shared gh_cmdguard_settle: the request had no filter."""
    g = ghenv
    g.cli("cmdgroup", "add", "hold", "touch")
    g.cli("cmdfilter", "add", "hold-touch", "--cmdgroup", "hold", "--action", "review")
    c = shell(g)
    c.sendline("x=3; echo n-$((x))")
    c.expect(r"held for review \(filter dynamic\): request (\d+)")
    req = pending_request(g)
    assert req["filter"] == "dynamic" and str(req["id"]) == c.match.group(1), req
    g.cli("request", "deny", str(req["id"]))
    c.expect(r"denied by the reviewer \(filter dynamic\)")
    c.expect(PROMPT_RE)
    bye(c)
    got = [x for x in commands(g) if x[3].startswith('cmd="x=3; ')]
    assert [x[:3] for x in got] == [("interactive", "review-denied", "dynamic")], commands(g)


def test_interactive_unechoed_input_not_logged(danger):
    """Input the terminal does not echo (a password prompt) is checked from
    the keystrokes but its text never reaches the audit log."""
    g = danger
    c = shell(g)
    c.sendline("read -s v; echo got-${#v}")
    c.sendline("Top-Secret-9f2")
    c.expect("got-14")
    c.expect(PROMPT_RE)
    bye(c)
    assert "Top-Secret" not in repr(g.events())


def test_interactive_logged_without_filters(ghenv):
    """No filter applies: every line is still in the command log (read at
    Enter, nothing held)."""
    g = ghenv
    c = shell(g)
    c.sendline("echo logged-$((4+4))")
    c.expect("logged-8")
    c.expect(PROMPT_RE)
    bye(c)
    assert commands(g) == [("interactive", "accept", None, 'cmd="echo logged-$((4+4))"'),
                           ("interactive", "accept", None, 'cmd="exit"')]


def test_joined_input_is_filtered_too(danger, victim):
    """What a live joiner types goes through the session's command filter."""
    import subprocess
    g = danger
    c = shell(g)
    sid = [s["id"] for s in g.sessions() if not s["ended_at"]][0]
    j = subprocess.Popen([g.bin, "--data", g.data, "session", "join", sid], stdin=subprocess.PIPE,
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=g.env)
    try:
        c.expect_exact("joined the session]")
        j.stdin.write(f"rm -rf {victim}\n".encode())
        j.stdin.flush()
        c.expect(REJECTED)
        c.expect(PROMPT_RE)
    finally:
        j.stdin.close()
        j.wait(timeout=20)
    bye(c)
    assert os.path.exists(victim)
    assert ("interactive", "reject", "no-danger", f'cmd="rm -rf {victim}" group=danger') in commands(g)



def test_interactive_ctrl_o_is_enter(danger, victim):
    """Issue 11 item 4: Ctrl-O (readline's operate-and-get-next, bound by
    default) runs the line without Enter. It must be held and decided like
    Enter: the rm is refused, an allowed line runs and is logged. Fails
    without the fix (the file is deleted, no command event)."""
    g = danger
    c = shell(g)
    c.send(f"rm -f {victim}\x0f")
    c.expect(REJECTED)
    c.expect(PROMPT_RE)
    c.send("echo ok-$((2+3))\x0f")
    c.expect("ok-5")
    c.expect(PROMPT_RE)
    c.send("\x0a")  # Ctrl-J on an empty line: nothing to check, a new prompt
    c.expect(PROMPT_RE)
    bye(c)
    assert os.path.exists(victim)
    ev = commands(g)
    assert ("interactive", "reject", "no-danger", f'cmd="rm -f {victim}" group=danger') in ev
    assert ("interactive", "accept", None, 'cmd="echo ok-$((2+3))"') in ev


@pytest.mark.parametrize("template", [
    "PROMPT_COMMAND='rm -f {v}'",
    "PS1='$(rm -f {v})x$ '",
    "PS0='$(rm -f {v})'",
    "PS4='$(rm -f {v})'; set -x",
    "trap 'rm -f {v}' DEBUG",
    "export PROMPT_COMMAND='rm -f {v}'",
], ids=["PROMPT_COMMAND", "PS1", "PS0", "PS4", "trap-DEBUG", "export-PROMPT_COMMAND"])
def test_interactive_code_assignments(danger, victim, template):
    """Issue 11 item 4: values bash runs later (PROMPT_COMMAND, PS0/PS1/PS4
    expansions, a DEBUG trap) are analysed as commands where they are
    assigned: a rejected command inside rejects the assignment. Fails
    without the fix (the assignment is accepted and the next prompt or
    command deletes the file); the DEBUG trap was caught before and stays
    caught."""
    g = danger
    c = shell(g)
    c.sendline(template.format(v=victim))
    c.expect(REJECTED)
    c.expect(PROMPT_RE)
    for i in range(2):  # prompts and commands that would run the code
        c.sendline(f"echo next-$((40+{i}))")
        c.expect(f"next-{40 + i}")
        c.expect(PROMPT_RE)
    bye(c)
    assert os.path.exists(victim)
    assert commands(g)[0][1:3] == ("reject", "no-danger")


def test_interactive_dynamic_refused(danger, victim):
    """Issue 11 item 3 on the interactive path: arithmetic on a variable
    holding a subscript runs its substitution, and a code variable given a
    value expanded now runs that value at every prompt; both lines are
    refused as dynamic with a one-line reason. Fails without the fix."""
    g = danger
    c = shell(g)
    c.sendline(f"a='z[$(rm -f {victim})]'")  # a plain string: accepted
    c.expect(PROMPT_RE)
    c.sendline("echo $((a))")
    c.expect(DYNAMIC_REFUSED + "arithmetic on a variable")
    c.expect(PROMPT_RE)
    # a value expanded now becomes code run at every prompt
    c.sendline('PROMPT_COMMAND="echo $a"')
    c.expect(DYNAMIC_REFUSED + "variable naming code")
    c.expect(PROMPT_RE)
    c.sendline("echo after-$((1+1))")
    c.expect("after-2")
    c.expect(PROMPT_RE)
    bye(c)
    assert os.path.exists(victim)
    ev = [e for e in g.events("command") if e["detail"] == 'cmd="echo $((a))" '
          'dynamic="arithmetic on a variable (its value is evaluated and may run code)"']
    assert len(ev) == 1 and (ev[0]["result"], ev[0]["reason"]) == ("reject", "dynamic"), ev
