"""gatehouse config check / show: errors name FILE:LINE, values are effective."""
import os


def test_config_check_names_file_and_line(gh, tmp_path):
    conf = tmp_path / "bad.conf"
    conf.write_text("# comment\nssh_listen = 127.0.0.1:2222\n\nmax_auth_tries = lots\n")
    p = gh("config", "check", "--config", str(conf), check=1)
    assert f"{conf}:4:" in p.stderr and "max_auth_tries" in p.stderr
    conf.write_text("log_level = info\nno_such_key = 1\n")
    p = gh("--config", str(conf), "config", "check", check=1)
    assert f"{conf}:2:" in p.stderr and "no_such_key" in p.stderr
    p = gh("config", "check", "--config", str(tmp_path / "missing.conf"), check=1)
    assert "missing.conf" in p.stderr


def test_config_check_ok_and_show(gh, data_dir, tmp_path):
    p = gh("config", "check", check=0)
    assert "defaults" in p.stdout
    assert not os.path.exists(data_dir)  # checking creates nothing
    os.makedirs(data_dir)
    with open(os.path.join(data_dir, "gatehouse.conf"), "w") as f:
        f.write("ssh_listen = 127.0.0.1:2299\nmax_auth_tries = 3\n")
    p = gh("config", "check", check=0)
    assert p.stdout.strip() == f"{data_dir}/gatehouse.conf: OK"
    p = gh("config", "show", check=0)
    lines = p.stdout.splitlines()
    assert "ssh_listen = 127.0.0.1:2299" in lines
    assert "max_auth_tries = 3" in lines
    assert f"database_path = {data_dir}/db/gatehouse.db" in lines
    assert "login_grace_time = 60" in lines  # a default


def test_bad_config_stops_other_commands(gh, data_dir):
    os.makedirs(data_dir)
    with open(os.path.join(data_dir, "gatehouse.conf"), "w") as f:
        f.write("max_sessions = -5\n")
    p = gh("user", "add", "alice", check=1)
    assert "gatehouse.conf:1:" in p.stderr
