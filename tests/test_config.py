"""Config: defaults, YAML loading, and errors that name the file, line and key."""

from __future__ import annotations

import pytest

from cxnlp.config import Config, apply_overrides, load_config
from cxnlp.errors import ConfigError


def test_default_yaml_equals_code_defaults():
    """configs/default.yaml lists every setting (as the README says) with the code's value."""
    import yaml

    from cxnlp.config import configs_dir

    assert load_config() == Config()

    def keys(tree: dict, prefix: str = "") -> set[str]:
        return {f"{prefix}{k}" for k in tree} | {
            k for name, v in tree.items() if isinstance(v, dict) for k in keys(v, f"{name}.")}

    written = yaml.safe_load((configs_dir() / "default.yaml").read_text(encoding="utf-8"))
    assert keys(Config().model_dump()) - keys(written) == set()


def test_every_problem_reported_with_its_line(tmp_path):
    path = tmp_path / "bad.yaml"
    path.write_text("io:\n  text_colum: x\nrun:\n  chunk_size: -1\n  progress: maybe\n")
    with pytest.raises(ConfigError) as err:
        load_config(path)
    msg = str(err.value)
    assert f"{path}:2: io.text_colum: unknown key" in msg
    assert f"{path}:4: run.chunk_size" in msg
    assert f"{path}:5: run.progress" in msg


def test_not_a_mapping_and_bad_yaml(tmp_path):
    (tmp_path / "list.yaml").write_text("- a\n- b\n")
    with pytest.raises(ConfigError, match="mapping of sections"):
        load_config(tmp_path / "list.yaml")
    (tmp_path / "broken.yaml").write_text("io: [\n")
    with pytest.raises(ConfigError, match="not valid YAML"):
        load_config(tmp_path / "broken.yaml")
    with pytest.raises(ConfigError, match="not found"):
        load_config(tmp_path / "missing.yaml")


def test_overrides_short_and_dotted():
    cfg = apply_overrides(
        Config(), text_column="comment", **{"run.chunk_size": 10}, date_column=None
    )
    assert cfg.io.text_column == "comment" and cfg.run.chunk_size == 10
    with pytest.raises(ConfigError, match="ambiguous"):
        apply_overrides(Config(), model="x")
    with pytest.raises(ConfigError, match="unknown"):
        apply_overrides(Config(), colour="blue")
    with pytest.raises(ConfigError, match="score_columns"):
        apply_overrides(Config(), score_columns={"Q1": "stars"})


def test_model_paths_that_do_not_exist_are_clear_errors(tmp_path):
    """An unknown encoder name or a missing model folder is a CxnlpError that says what to set,
    so the CLI prints one line (before: a ValueError with a traceback)."""
    from cxnlp.encode import Encoder
    from cxnlp.errors import CxnlpError
    from cxnlp.sentiment import load_sentiment

    with pytest.raises(ConfigError, match="neither a known model nor a folder.*encoder.model"):
        Encoder(model="no-such-model").model_id  # noqa: B018
    (tmp_path / "empty").mkdir()
    with pytest.raises(ConfigError, match="folder without modules.json"):
        Encoder(model=str(tmp_path / "empty")).model_id  # noqa: B018
    with pytest.raises(CxnlpError, match="folder .*nothere does not exist"):
        load_sentiment(tmp_path / "nothere")


def test_a_section_written_twice_is_refused(tmp_path):
    """YAML keeps the last of two keys: a second topics block would undo the first silently."""
    path = tmp_path / "twice.yaml"
    path.write_text("topics:\n  enabled: false\nrun:\n  chunk_size: 10\ntopics:\n  seed: 3\n")
    with pytest.raises(ConfigError, match=r"twice.yaml:5: key 'topics' is written twice"):
        load_config(path)


def test_paths_beside_the_config_file_work_from_any_folder(tmp_path, monkeypatch):
    """`themes: {model: heads/mine}` next to its heads folder, run from elsewhere (cron, CI):
    the path is read beside the config; one that exists from the working folder is kept."""
    (tmp_path / "project" / "heads" / "mine").mkdir(parents=True)
    (tmp_path / "project" / "my.yaml").write_text("name: x\n")
    config = tmp_path / "project" / "run.yaml"
    config.write_text("themes:\n  model: heads/mine\n  codeframe: my.yaml\n"
                      "link:\n  churn_model: nowhere/head\n")  # fmt: skip
    monkeypatch.chdir(tmp_path)
    cfg = load_config(config)
    assert cfg.themes.model == str((tmp_path / "project" / "heads" / "mine").resolve())
    assert cfg.themes.codeframe == str((tmp_path / "project" / "my.yaml").resolve())
    assert cfg.link.churn_model == "nowhere/head"  # nowhere: left as written
    (tmp_path / "heads" / "mine").mkdir(parents=True)  # the working folder's wins
    assert load_config(config).themes.model == "heads/mine"


def test_yaml_tags_and_odd_keys_are_one_clear_error(tmp_path):
    """Tags safe_load refuses (!!python/object, a custom !tag) and complex keys are a
    ConfigError naming the file, not a ConstructorError / TypeError traceback."""
    for body in ("io: {date_column: !custom x}\n", "run: !!python/object:os.system {}\n"):
        path = tmp_path / "tag.yaml"
        path.write_text(body)
        with pytest.raises(ConfigError, match=r"tag.yaml is not valid YAML(.|\n)*tag.yaml"):
            load_config(path)
    path.write_text("? [a, b]\n: 1\n")
    with pytest.raises(ConfigError):
        load_config(path)


def test_override_mistakes_say_what_to_write():
    """A section passed as a keyword, a name two sections share, a typo: each message says
    what to write instead."""
    said = (r"'topics' is a section, not a setting: pass config=\{'topics': \{\.\.\.\}\}, or "
            r".*\*\*\{'topics\.enabled': \.\.\.\}")
    with pytest.raises(ConfigError, match=said):
        apply_overrides(Config(), topics={"enabled": False})
    with pytest.raises(ConfigError, match="ambiguous: it may be themes.enabled or topics.enabled"):
        apply_overrides(Config(), enabled=False)
    with pytest.raises(ConfigError, match="'text_colum' is unknown. Did you mean 'text_column'"):
        apply_overrides(Config(), text_colum="why")
    assert apply_overrides(Config(), **{"topics.enabled": False}).topics.enabled is False
