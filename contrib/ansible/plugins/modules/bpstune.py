#!/usr/bin/python
# Copyright: (c) 2026, bpstune authors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Ansible module driving the installed bpstune with --format json."""

from __future__ import annotations

DOCUMENTATION = r"""
---
module: bpstune
short_description: Apply, verify, persist and roll back bpstune busy-poll profiles
version_added: "0.2.0"
description:
  - Runs the C(bpstune) installed on the managed host and reads its C(--format json) output,
    so that tasks report C(changed) only when bpstune changed something.
  - Check mode plans without touching the host (C(bpstune apply --dry-run),
    C(bpstune rollback --dry-run)); diff mode shows each setting's current and planned value.
  - bpstune's exit codes become task results. Exit 2 (bad input; nothing was changed) fails
    with bpstune's one-line message. Exit 3 fails saying the host is as before. Exit 4 fails
    and lists each setting left changed.
  - Needs only Python's standard library on the managed host.
  - Each option reaches bpstune with its value in one argument (C(-i=IF), C(--set=NAME=VALUE))
    and C(--) comes before the profile or snapshot, so no parameter can become an option of
    bpstune whatever it starts with.
  - A control character in any parameter (in O(content), anything but tab and newline) and a
    relative O(profiles_dir), O(metrics_dir), O(state_dir) or O(executable) fail the task
    before bpstune runs or anything is stored.
options:
  state:
    description:
      - C(applied) applies the profile now (C(bpstune apply)), unless the host already matches.
      - C(enabled) also makes it persistent (C(bpstune enable)) at boot, when the profile's
        interfaces appear, and with the drift timer. Nothing is done when the same profile
        with the same options is enabled, the host matches it, and the units are enabled.
      - C(disabled) stops persisting and rolls back what the enabled profile applied in this
        boot (C(bpstune disable)).
      - C(verified) changes nothing and fails on drift, naming each drifting setting.
      - C(rolled_back) undoes the most recent apply not undone yet, or O(snapshot).
    type: str
    choices: [applied, enabled, disabled, verified, rolled_back]
    default: applied
  profile:
    description:
      - A profile name (built-in, or installed in C(/etc/bpstune/profiles)) or a path to a
        C(.profile) file on the managed host.
      - With O(content), the name the content is stored under when O(state=enabled).
      - Required for O(state=applied), O(state=enabled) and O(state=verified), unless
        O(content) is given.
    type: str
  content:
    description:
      - The profile's TOML text, shipped to the managed host.
      - With O(state=enabled) it is written to O(profiles_dir)/O(profile).profile (only when
        it differs), because bpstune's units read it again at every boot.
      - Otherwise it goes to a private temporary file, removed when the task ends.
      - In check mode bpstune plans from this content (a private copy, mode 0600 in a
        directory of its own), also when the stored profile holds other text.
      - Tab, newline and CR LF are its only control characters; any other fails the task.
    type: str
  profiles_dir:
    description:
      - Where O(content) is stored for O(state=enabled).
    type: path
    default: /etc/bpstune/profiles
  variables:
    description:
      - Profile variables, passed as C(--set=NAME=VALUE); a name holds no C(=).
    type: dict
    default: {}
  interface:
    description:
      - The interface for the profile's C(${iface}) variable (C(-i)).
    type: str
  skip_unsupported:
    description:
      - Apply what this host can take and report the unsupported settings skipped, instead
        of failing. With O(state=verified), unsupported settings are not counted as drift.
    type: bool
    default: false
  snapshot:
    description:
      - With O(state=rolled_back), the snapshot to restore (see C(bpstune snapshots)).
    type: str
  force:
    description:
      - With O(state=rolled_back), overwrite values changed since the snapshot.
    type: bool
    default: false
  keep_settings:
    description:
      - With O(state=disabled), leave the current values; only stop persisting them.
    type: bool
    default: false
  metrics_dir:
    description:
      - With O(state=enabled), where the drift timer writes node_exporter textfile metrics.
      - Default is bpstune's, C(/var/lib/prometheus/node-exporter).
    type: path
  reapply_on_drift:
    description:
      - With O(state=enabled), let the drift timer re-apply the profile when the host drifted.
    type: bool
    default: false
  state_dir:
    description:
      - bpstune's state directory for snapshots and the lock (default C(/var/lib/bpstune)).
    type: path
  lock_timeout:
    description:
      - Seconds to wait for another bpstune run to finish.
    type: int
    default: 30
  executable:
    description:
      - Path of the bpstune program; by default it is looked up in C(PATH) and C(/usr/sbin).
    type: path
notes:
  - Applying needs root (C(become=true)).
  - Check mode is supported for every state; O(state=verified) never changes anything.
  - bpstune's warnings (NUMA, IOMMU, boot parameters that need a reboot) are shown as Ansible
    warnings.
attributes:
  check_mode:
    description: Can run in check_mode and return changed status prediction without modifying target.
    support: full
    details: Plans with C(bpstune apply --dry-run) and C(bpstune rollback --dry-run); writes nothing.
  diff_mode:
    description: Will return details on what has changed (or possibly needs changing in check_mode), when in diff mode.
    support: full
    details: One line per setting, C(name = value), before and after.
requirements:
  - bpstune installed on the managed host (the bpstune .deb, or make install).
author:
  - bpstune authors (@bpstune)
"""

EXAMPLES = r"""
- name: Apply the built-in hft profile to eth1
  bpstune.bpstune.bpstune:
    profile: hft
    interface: eth1
  become: true

- name: Enable a site profile with variables, persistent across reboots
  bpstune.bpstune.bpstune:
    profile: trading
    state: enabled
    variables:
      app-cpus: "2-3"
    interface: ens1f0
  become: true

- name: Ship an inline profile and apply it
  bpstune.bpstune.bpstune:
    content: |
      [sysctl]
      net.core.busy_read = 50
      net.core.busy_poll = 50
  become: true

- name: Fail the play when a host drifted from its profile
  bpstune.bpstune.bpstune:
    profile: hft
    interface: eth1
    state: verified

- name: Undo the most recent apply
  bpstune.bpstune.bpstune:
    state: rolled_back
  become: true
"""

RETURN = r"""
snapshot:
  description: The snapshot bpstune wrote before changing anything (apply, enable or rollback).
  returned: when bpstune changed something
  type: str
  sample: 20261202T101500Z-4f2a
changes:
  description: Each setting changed (or, in check mode, to be changed), with its values.
  returned: states applied, enabled and rolled_back
  type: list
  elements: dict
  sample: [{"name": "net.core.busy_read", "before": "0", "after": "50"}]
unchanged:
  description: How many of the profile's settings already had their value.
  returned: states applied and enabled
  type: int
  sample: 4
skipped:
  description: Unsupported settings skipped with O(skip_unsupported), each with the reason.
  returned: states applied and enabled
  type: list
  elements: str
unsupported:
  description: Settings this host cannot take, each with the reason.
  returned: states applied, enabled and verified
  type: list
  elements: str
needs_reboot:
  description: Boot parameters of the profile's [cmdline] the running kernel lacks; bpstune never
    writes the bootloader.
  returned: states applied, enabled and verified
  type: list
  elements: dict
  sample: [{"name": "isolcpus", "current": "(absent)", "desired": "1"}]
drift:
  description: Each setting that differs from the profile, with the expected and actual values.
  returned: states verified and enabled
  type: list
  elements: dict
  sample: [{"name": "net.core.busy_read", "expected": "50", "actual": "0"}]
left_changed:
  description: Settings left changed after a failed apply or rollback whose undo was incomplete
    (bpstune exit code 4).
  returned: on exit code 4
  type: list
  elements: str
rc:
  description: bpstune's exit code when the task failed (1 drift, 2 bad input, 3 failed and
    undone, 4 failed and undo incomplete); 0 when it succeeded. 2 also when the module refused
    a parameter before running bpstune (then RV(cmd) is empty).
  returned: always
  type: int
  sample: 0
cmd:
  description: The bpstune command lines run.
  returned: always
  type: list
  elements: str
report:
  description: bpstune's last JSON document (its C(schema) and C(command) say which; see
    bpstune-output.schema.json).
  returned: when bpstune printed one
  type: dict
"""

import json
import os
import shlex
import shutil
import tempfile

from ansible.module_utils.basic import AnsibleModule

STATES_NEEDING_PROFILE = ("applied", "enabled", "verified")
ENABLED_UNITS = ("bpstune.service", "bpstune-drift.timer")
# Parameters that become bpstune arguments, file names or paths: no control character at all.
TEXT_PARAMETERS = ("profile", "interface", "snapshot", "profiles_dir", "metrics_dir", "state_dir", "executable")
# Paths bpstune is given that must not depend on the module's working directory.
ABSOLUTE_PARAMETERS = ("profiles_dir", "metrics_dir", "state_dir", "executable")


def control_character(text, allowed=""):
    """The first control character (C0, DEL, C1) of text not in allowed, or None."""
    for character in text:
        code = ord(character)
        if (code < 0x20 or 0x7F <= code <= 0x9F) and character not in allowed:
            return character
    return None


def refusal(parameters):
    """Why the parameters may not be handed to bpstune, or None: a control character in a
    name, path, snapshot or variable (bpstune would refuse it, but after the module printed or
    stored it), in the profile's content anything but tab, newline and CR LF, a variable name
    with "=", a relative path."""

    def found(name, character):
        return "%s holds the control character U+%04X; refused" % (name, ord(character))

    for name in TEXT_PARAMETERS:
        value = parameters.get(name)
        if value is not None and control_character(value):
            return found(name, control_character(value))
    for key, value in (parameters.get("variables") or {}).items():
        key, value = str(key), str(value)
        if control_character(key):
            return found("variables (a name)", control_character(key))
        if control_character(value):
            return found("variables (%s)" % key, control_character(value))
        if not key or "=" in key:
            return "variables: %r is not a variable name (empty or holding =); refused" % key
    content = parameters.get("content")
    if content is not None:
        character = control_character(content.replace("\r\n", "\n"), allowed="\t\n")
        if character:
            return found("content", character)
    for name in ABSOLUTE_PARAMETERS:
        value = parameters.get(name)
        if value is not None and not os.path.isabs(value):
            return "%s %s: must be an absolute path" % (name, value)
    return None


def drifted(settings):
    """The result's drift entries ({name, expected, actual}) from settings as bpstune's JSON lists
    them (verify's settings, status's drift): those that differ from the profile."""
    return [
        {"name": s["name"], "expected": s.get("desired", ""), "actual": s.get("current", "")}
        for s in settings
        if s.get("status") in ("change", "needs-reboot")
    ]


class BPSTune:
    """Runs bpstune and turns its JSON documents and exit codes into the task's result."""

    def __init__(self, module):
        self.module = module
        self.params = module.params
        self.result = {"changed": False, "cmd": [], "rc": 0}
        if self.params["executable"]:
            self.executable = self.params["executable"]
        else:
            self.executable = module.get_bin_path("bpstune", required=True, opt_dirs=["/usr/sbin", "/usr/local/sbin"])
        self.temporary = None

    # Running bpstune.

    # Every option takes its value in the same argument (--name=VALUE, -i=VALUE), and "--"
    # ends the options before the positionals: no parameter can become an option, whatever
    # it starts with (a snapshot "--force" is the snapshot id "--force", not rollback --force).

    def global_options(self):
        options = ["--no-color"]
        if self.params["state_dir"]:
            options.append("--state-dir=" + self.params["state_dir"])
        return options

    def profile_options(self):
        options = []
        if self.params["interface"]:
            options.append("-i=" + self.params["interface"])
        for name in sorted(self.params["variables"]):
            options.append("--set=%s=%s" % (name, self.params["variables"][name]))
        return options

    def run(self, command, options, positionals=()):
        """bpstune COMMAND OPTIONS... GLOBAL-OPTIONS... -- POSITIONALS..."""
        command = [self.executable, command] + options + self.global_options() + ["--"] + list(positionals)
        self.result["cmd"].append(" ".join(shlex.quote(argument) for argument in command))
        rc, out, err = self.module.run_command(command, environ_update={"NO_COLOR": "1"})
        self.result["rc"] = rc
        document = None
        if out.strip().startswith("{"):
            try:
                document = json.loads(out)
            except ValueError:
                self.fail("bpstune printed output that is not JSON: %s" % out.strip()[:200], rc=rc)
            self.result["report"] = document
        return rc, document, out, err

    def document(self, command, options, positionals=(), accepted=(0,)):
        """Runs bpstune for its JSON document; another exit code or an error document fails the task."""
        rc, document, out, err = self.run(command, options, positionals)
        if rc not in accepted or document is None or "error" in document:
            self.fail_for_exit(rc, document, err)
        return document

    def changing(self, options, dry_run=True):
        """A command that changes the host: the lock timeout, and --dry-run in check mode."""
        options = options + ["--lock-timeout=%d" % self.params["lock_timeout"]]
        if dry_run and self.module.check_mode:
            options.append("--dry-run")
        return options

    def fail(self, msg, **extra):
        self.cleanup()
        self.result.update(extra)
        self.result["msg"] = msg
        self.module.fail_json(**self.result)

    def fail_for_exit(self, rc, document, err):
        """Exit 2, 3 and 4 fail the task with bpstune's one line, as documented."""
        error = (document or {}).get("error", {})
        lines = [line for line in err.splitlines() if line.strip() and not line.startswith("bpstune: warning:")]
        line = error.get("message") or (lines[-1] if lines else "bpstune exited with %d" % rc)
        if line.startswith("bpstune: "):
            line = line[len("bpstune: "):]
        extra = {}
        for key in ("setting", "path", "unsupported", "conflicts"):
            if key in error:
                extra[key] = error[key]
        if rc == 2:
            said = "" if "nothing was changed" in line else "; nothing was changed"
            self.fail(line + said + " (bpstune exit 2)", **extra)
        if rc == 3:
            if "the host is as before" not in line:
                line += "; every change was undone, the host is as before"
            self.fail(line + " (bpstune exit 3)", undone=error.get("undone"), **extra)
        if rc == 4:
            left = error.get("left_changed") or []
            listed = "; ".join(left) if left else "see the message"
            self.fail(
                "%s (bpstune exit 4: undoing was incomplete; settings left changed: %s)" % (line, listed),
                left_changed=left,
                **extra
            )
        self.fail("bpstune exited with %d: %s" % (rc, line), stderr=err)

    # The profile.

    def profile_reference(self):
        """The profile argument: a name or path, or the path the inline content was written to."""
        content = self.params["content"]
        profile = self.params["profile"]
        if content is None:
            return profile
        if self.params["state"] == "enabled":
            return self.store_content(profile, content)
        return self.private_copy("inline", content)

    def private_copy(self, name, content):
        """content in a file only root can read, in a directory of its own (mode 0700, made by
        mkdtemp), removed when the task ends: what bpstune plans from when the content is not
        (or not yet) where it is stored."""
        self.cleanup()
        self.temporary = tempfile.mkdtemp(prefix="ansible-bpstune-")
        path = os.path.join(self.temporary, name + ".profile")
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0), 0o600)
        with os.fdopen(descriptor, "w") as handle:
            handle.write(content)
        return path

    def store_content(self, name, content):
        """Writes content to profiles_dir/NAME.profile when it differs; units read it at boot."""
        directory = self.params["profiles_dir"]
        path = os.path.join(directory, name + ".profile")
        try:
            with open(path) as handle:
                current = handle.read()
        except (IOError, OSError):
            current = None
        if current == content:
            return path
        self.result["changed"] = True
        self.result.setdefault("diff", []).append(
            {"before_header": path, "after_header": path, "before": current or "", "after": content}
        )
        if self.module.check_mode:
            # The stored file is missing or holds other text: plan from the new content, in a
            # private copy (planning from the stored file would show the old profile's plan).
            return self.private_copy(name, content)
        if not os.path.isdir(directory):
            os.makedirs(directory, 0o755)
        descriptor, temporary = tempfile.mkstemp(dir=directory, prefix=".ansible-", suffix=".profile")
        with os.fdopen(descriptor, "w") as handle:
            handle.write(content)
        os.chmod(temporary, 0o644)
        self.module.atomic_move(temporary, path)
        return path

    def cleanup(self):
        if self.temporary:
            shutil.rmtree(self.temporary, ignore_errors=True)
            self.temporary = None

    # Reading plans.

    def take_plan(self, document, header):
        """changes, unchanged, unsupported, needs_reboot and warnings from a plan document."""
        settings = document.get("settings", [])
        changes = [
            {"name": s["name"], "before": s.get("current", ""), "after": s.get("desired", "")}
            for s in settings
            if s.get("status") == "change"
        ]
        self.result["changes"] = changes
        self.result["unchanged"] = len([s for s in settings if s.get("status") == "ok"])
        self.result["unsupported"] = [
            "%s: %s" % (s["name"], s.get("reason", "")) for s in settings if s.get("status") == "unsupported"
        ]
        self.result["needs_reboot"] = [
            {"name": s["name"], "current": s.get("current", ""), "desired": s.get("desired", "")}
            for s in settings
            if s.get("status") == "needs-reboot"
        ]
        self.result["skipped"] = document.get("skipped", [])
        for warning in document.get("warnings", []):
            self.module.warn(warning)
        for item in self.result["needs_reboot"]:
            self.module.warn(
                "%s: needs a reboot with it on the kernel command line (now %s, wanted %s); see bpstune cmdline"
                % (item["name"], item["current"], item["desired"])
            )
        if changes:
            self.add_diff(header, changes)
        return changes

    def add_diff(self, header, changes):
        before = "".join("%s = %s\n" % (c["name"], c["before"]) for c in changes)
        after = "".join("%s = %s\n" % (c["name"], c["after"]) for c in changes)
        self.result.setdefault("diff", []).append(
            {"before_header": "%s (host now)" % header, "after_header": header, "before": before, "after": after}
        )

    # States.

    def applied(self):
        profile = self.profile_reference()
        options = self.profile_options() + ["--format=json"]
        if self.params["skip_unsupported"]:
            options.append("--skip-unsupported")
        document = self.document("apply", self.changing(options), [profile])
        changes = self.take_plan(document, self.params["profile"] or "inline profile")
        if document.get("snapshot"):
            self.result["snapshot"] = document["snapshot"]
        self.result["changed"] = self.result["changed"] or bool(changes)

    def verified(self):
        profile = self.profile_reference()
        document = self.document("verify", self.profile_options() + ["--format=json"], [profile], accepted=(0, 1))
        settings = document.get("settings", [])
        drift = drifted(settings)
        unsupported = [
            "%s: %s" % (s["name"], s.get("reason", "")) for s in settings if s.get("status") == "unsupported"
        ]
        self.result["drift"] = drift
        self.result["unsupported"] = unsupported
        self.result["needs_reboot"] = [
            {"name": s["name"], "current": s.get("current", ""), "desired": s.get("desired", "")}
            for s in settings
            if s.get("status") == "needs-reboot"
        ]
        if drift:
            self.fail(
                "%d setting(s) drifted from %s: %s"
                % (
                    len(drift),
                    self.params["profile"] or "the profile",
                    "; ".join("%s (expected %s, actual %s)" % (d["name"], d["expected"], d["actual"]) for d in drift),
                )
            )
        if unsupported and not self.params["skip_unsupported"]:
            self.fail(
                "%d setting(s) this host cannot take: %s (skip_unsupported=true accepts them)"
                % (len(unsupported), "; ".join(unsupported)),
                unsupported=unsupported,
            )

    def rolled_back(self):
        options = ["--format=json"]
        if self.params["force"]:
            options.append("--force")
        snapshot = [self.params["snapshot"]] if self.params["snapshot"] else []
        document = self.document("rollback", self.changing(options), snapshot)
        restored = [
            {"name": s["name"], "before": s.get("current", ""), "after": s.get("desired", "")}
            for s in document.get("settings", [])
            if s.get("status") == "restore"
        ]
        self.result["changes"] = restored
        if document.get("snapshot") and not self.module.check_mode:
            self.result["snapshot"] = document["snapshot"]
        if document.get("earlier_boots"):
            self.module.warn(
                "nothing of this boot to roll back; applies of earlier boots stay restorable by id: %s"
                % ", ".join(document["earlier_boots"])
            )
        if restored:
            self.add_diff("snapshot %s" % (document.get("restores") or self.params["snapshot"] or "?"), restored)
        self.result["changed"] = bool(restored)

    def status(self):
        """bpstune status as a document; None when nothing is enabled."""
        rc, document, out, err = self.run("status", ["--format=json"])
        if document is None:
            self.fail_for_exit(rc, document, err)
        if "error" in document:
            return document
        return document if document.get("enabled") else None

    def enabled_as_wanted(self, status, profile):
        if status is None or "error" in status:
            return False
        wanted_variables = dict((k, str(v)) for k, v in self.params["variables"].items())
        same = (
            status.get("profile") == profile
            and (status.get("interface") or None) == (self.params["interface"] or None)
            and (status.get("variables") or {}) == wanted_variables
            and bool(status.get("skip_unsupported")) == self.params["skip_unsupported"]
            and bool(status.get("reapply_on_drift")) == self.params["reapply_on_drift"]
        )
        if self.params["metrics_dir"]:
            same = same and status.get("metrics_directory") == self.params["metrics_dir"]
        # The units enable turns on (bpstune-drift.service is static, started by its timer).
        units = dict((u.get("unit"), u.get("enabled")) for u in status.get("units", []))
        units_on = all(units.get(unit) == "enabled" for unit in ENABLED_UNITS)
        return same and units_on and status.get("match") is True

    def enabled(self):
        profile = self.profile_reference()
        if "/" in profile and not os.path.isabs(profile):
            profile = os.path.abspath(profile)
        status = self.status()
        if self.enabled_as_wanted(status, profile):
            self.result["drift"] = []
            return
        # The plan, for the result and the diff; it refuses exactly as enable would.
        options = self.profile_options() + ["--dry-run", "--format=json"]
        if self.params["skip_unsupported"]:
            options.append("--skip-unsupported")
        document = self.document("apply", options, [profile])
        self.take_plan(document, self.params["profile"] or profile)
        if status is not None and "error" not in status:
            self.result["drift"] = drifted(status.get("drift", []))
        self.result["changed"] = True
        if self.module.check_mode:
            return
        options = self.changing(self.profile_options(), dry_run=False)
        if self.params["skip_unsupported"]:
            options.append("--skip-unsupported")
        if self.params["metrics_dir"]:
            options.append("--metrics-dir=" + self.params["metrics_dir"])
        if self.params["reapply_on_drift"]:
            options.append("--reapply-on-drift")
        rc, document, out, err = self.run("enable", options, [profile])
        if rc != 0:
            self.fail_for_exit(rc, None, err)
        for line in err.splitlines():
            if line.startswith("bpstune: warning: "):
                self.module.warn(line[len("bpstune: warning: "):])
        after = self.status()
        if after is not None and "error" not in after:
            applies = [a for a in after.get("applies", []) if a.get("trigger") == "enable"]
            if applies:
                self.result["snapshot"] = applies[-1]["id"]
            self.result["drift"] = drifted(after.get("drift", []))

    def disabled(self):
        status = self.status()
        if status is None:
            return
        self.result["changed"] = True
        if self.module.check_mode:
            return
        options = self.changing([], dry_run=False)
        if self.params["keep_settings"]:
            options.append("--keep-settings")
        rc, document, out, err = self.run("disable", options)
        if rc != 0:
            self.fail_for_exit(rc, None, err)


def main():
    module = AnsibleModule(
        argument_spec=dict(
            state=dict(
                type="str", default="applied", choices=["applied", "enabled", "disabled", "verified", "rolled_back"]
            ),
            profile=dict(type="str"),
            content=dict(type="str"),
            profiles_dir=dict(type="path", default="/etc/bpstune/profiles"),
            variables=dict(type="dict", default={}),
            interface=dict(type="str"),
            skip_unsupported=dict(type="bool", default=False),
            snapshot=dict(type="str"),
            force=dict(type="bool", default=False),
            keep_settings=dict(type="bool", default=False),
            metrics_dir=dict(type="path"),
            reapply_on_drift=dict(type="bool", default=False),
            state_dir=dict(type="path"),
            lock_timeout=dict(type="int", default=30),
            executable=dict(type="path"),
        ),
        required_if=[("state", "enabled", ("profile",))],
        supports_check_mode=True,
    )
    state = module.params["state"]
    refused = refusal(module.params)
    if refused:
        module.fail_json(msg=refused, cmd=[], rc=2)
    if state in STATES_NEEDING_PROFILE and not module.params["profile"] and module.params["content"] is None:
        module.fail_json(msg="state=%s needs profile or content" % state)
    if state == "enabled" and module.params["content"] is not None and "/" in module.params["profile"]:
        module.fail_json(msg="with content, profile is the name it is stored under, not a path: %s" % module.params["profile"])
    tool = BPSTune(module)
    try:
        getattr(tool, state)()
    finally:
        tool.cleanup()
    # A success: status's exit 2 (nothing enabled) or 1 (drift) on the way was expected, and
    # Ansible fails any result whose rc is not 0.
    tool.result["rc"] = 0
    module.exit_json(**tool.result)


if __name__ == "__main__":
    main()
