#!/usr/bin/env bash
# install.sh for real: the release is served over loopback HTTP, installed into private
# roots (SHOAL_ROOT), with a stand-in systemctl that logs its calls (systemd cannot run
# inside the test). Fresh install, re-run, changed settings, repair, checksum mismatch,
# no systemd, --no-start, --binary, uninstall, `sh -` from a pipe, truncated downloads.
source "$(dirname "$0")/lib.sh"

installer=$(cd "$(dirname "$0")/../.." && pwd)/install.sh
arch=$(uname -m | sed -e 's/x86_64/amd64/' -e 's/aarch64/arm64/')
bin=usr/local/bin/shoal
uninstaller=usr/local/bin/shoal-uninstall.sh
unit=etc/systemd/system/shoal.service
dash=$(command -v dash)

# Loopback only, whatever proxy the caller's environment names.
unset http_proxy https_proxy HTTP_PROXY HTTPS_PROXY all_proxy ALL_PROXY
export no_proxy=127.0.0.1 NO_PROXY=127.0.0.1
# The installer's temporary files land here, so the end can check none is left.
export TMPDIR=$E2E_WORK/tmp
mkdir -p "$TMPDIR"

# --- what is served -----------------------------------------------------------

www=$E2E_WORK/www
mkdir -p "$www/tampered" "$www/empty"
if [ -f "$DIST/sha256sums.txt" ] && [ -f "$DIST/shoal-linux-$arch" ]; then
    ln -s "$(cd "$DIST" && pwd)" "$www/good"
else
    mkdir "$www/good"
    cp "$SHOAL" "$www/good/shoal-linux-$arch"
    (cd "$www/good" && sha256sum "shoal-linux-$arch" > sha256sums.txt)
fi
released=$www/good/shoal-linux-$arch
# The same binary next to a checksum file that names other bytes.
cp "$released" "$www/tampered/shoal-linux-$arch"
printf '%s  shoal-linux-%s\n' "$(printf tampered | sha256sum | cut -d' ' -f1)" "$arch" \
    > "$www/tampered/sha256sums.txt"

python3 -u -m http.server --bind 127.0.0.1 --directory "$www" 0 > "$E2E_WORK/http.log" 2>&1 &
server=$!
on_exit "kill $server 2>/dev/null; wait $server 2>/dev/null"
if ! eventually 10 grep -q '^Serving HTTP on 127.0.0.1 port ' "$E2E_WORK/http.log"; then
    fail "the HTTP server starts" "$(cat "$E2E_WORK/http.log")"
    exit 1
fi
port=$(sed -n 's/^Serving HTTP on 127\.0\.0\.1 port \([0-9][0-9]*\) .*/\1/p' "$E2E_WORK/http.log")
url=http://127.0.0.1:$port

# downloads — how many times the release binary was fetched.
downloads() { grep -c "\"GET /good/shoal-linux-$arch " "$E2E_WORK/http.log" || true; }

# --- helpers ------------------------------------------------------------------

# new_root NAME [systemd] — an empty root; with "systemd", one that looks booted by
# systemd. Also writes the root's stand-in systemctl at $E2E_WORK/NAME.systemctl: it logs
# each call to NAME.calls and keeps the unit's enabled/active state in two files.
new_root() {
    local r=$E2E_WORK/$1 ctl=$E2E_WORK/$1.systemctl
    mkdir -p "$r"
    if [ "${2:-}" = systemd ]; then mkdir -p "$r/run/systemd/system"; fi
    : > "$E2E_WORK/$1.calls"
    cat > "$ctl" <<EOF
#!/bin/sh
echo "\$*" >> '$E2E_WORK/$1.calls'
state='$E2E_WORK/$1.state'
case \$1 in
    start | restart) touch "\$state.active" ;;
    stop) rm -f "\$state.active" ;;
    enable) touch "\$state.enabled" ;;
    disable) rm -f "\$state.enabled" ;;
    is-active) [ -e "\$state.active" ] ;;
    is-enabled) [ -e "\$state.enabled" ] ;;
esac
EOF
    chmod +x "$ctl"
}

# calls NAME — the systemctl calls that change something (queries left out).
calls() { grep -v '^is-' "$E2E_WORK/$1.calls" || true; }

# run_install NAME URL ARGS... — install.sh from its file, under dash, into root NAME;
# sets $output (stdout and stderr) and $rc.
run_install() {
    local name=$1 u=$2; shift 2
    output=$(env SHOAL_ROOT="$E2E_WORK/$name" SHOAL_SYSTEMCTL="$E2E_WORK/$name.systemctl" \
        SHOAL_DOWNLOAD_URL="$u" "$dash" "$installer" "$@" 2>&1) && rc=0 || rc=$?
}

# installer_fails NAME PATTERN ARGS... — check_fails of install.sh into root NAME.
installer_fails() {
    local name=$1 root=$2 pattern=$3; shift 3
    check_fails "$name" "$pattern" env SHOAL_ROOT="$E2E_WORK/$root" \
        SHOAL_SYSTEMCTL="$E2E_WORK/$root.systemctl" "$@"
}

succeeded() { [ "$rc" -eq 0 ] || { echo "exit $rc"; printf '%s\n' "$output"; return 1; }; }
says() { grep -Eq -- "$1" <<<"$output" || { printf '%s\n' "$output"; return 1; }; }
same() { [ "$1" = "$2" ] || { printf 'want: %s\ngot:  %s\n' "$1" "$2"; return 1; }; }
# fingerprint FILE... — inode and mtime: both stay when a file is not rewritten.
fingerprint() { stat -c '%i %y' "$@"; }
# empty_root NAME — nothing was written into root NAME (its run/systemd/system aside).
empty_root() {
    local files
    files=$(find "$E2E_WORK/$1" -mindepth 1 -not -path "*/run" -not -path "*/run/systemd*")
    [ -z "$files" ] && [ -z "$(calls "$1")" ] || { printf '%s\n' "$files"; calls "$1"; return 1; }
}

# --- the script itself --------------------------------------------------------

check "install.sh passes dash -n" "$dash" -n "$installer"
if command -v shellcheck >/dev/null; then
    check "install.sh passes shellcheck -s sh" shellcheck -s sh "$installer"
fi
check "install.sh calls main on its last line" same 'main "$@"' "$(tail -n 1 "$installer")"

# --- a fresh install, piped into sh -s -- ARGS ---------------------------------

new_root main systemd
root=$E2E_WORK/main
output=$(env SHOAL_ROOT="$root" SHOAL_SYSTEMCTL="$E2E_WORK/main.systemctl" SHOAL_DOWNLOAD_URL="$url/good" \
    SHOAL_ADVERTISE_ADDR=127.0.0.1 "$dash" -s -- --listen-addr 127.0.0.1:2399 < "$installer" 2>&1) && rc=0 || rc=$?
check "a fresh install succeeds" succeeded
check "the installed binary is the released one" cmp "$released" "$root/$bin"
check "the binary is mode 0755" same 755 "$(stat -c %a "$root/$bin" 2>&1)"
check "the installed binary runs" "$root/$bin" version
check "the unit runs the daemon with the user's flags" grep -qx \
    'ExecStart=/usr/local/bin/shoal daemon --listen-addr 127.0.0.1:2399 --advertise-addr 127.0.0.1' "$root/$unit"
for line in Restart=always Delegate=yes KillMode=mixed LimitNOFILE=1048576 \
    After=network-online.target Wants=network-online.target WantedBy=multi-user.target; do
    check "the unit has $line" grep -qx "$line" "$root/$unit"
done
check "the unit is mode 0644" same 644 "$(stat -c %a "$root/$unit" 2>&1)"
if command -v systemd-analyze >/dev/null; then
    # systemd's own parser, on a copy whose ExecStart names the binary inside the root.
    mkdir -p "$E2E_WORK/verify"
    sed "s|^ExecStart=/usr/local/bin/shoal|ExecStart=$root/$bin|" "$root/$unit" > "$E2E_WORK/verify/shoal.service"
    check "systemd-analyze verify accepts the unit" \
        bash -c 'out=$(systemd-analyze verify --man=no "$1" 2>&1) && [ -z "$out" ] || { echo "$out"; exit 1; }' \
        _ "$E2E_WORK/verify/shoal.service"
fi
check "systemctl: daemon-reload, enable, start" same \
    "$(printf 'daemon-reload\nenable shoal.service\nstart shoal.service')" "$(calls main)"
check "the binary was downloaded once" same 1 "$(downloads)"
check "an executable uninstall script is written beside the binary" test -x "$root/$uninstaller"
check "nothing else is written" same \
    "$(printf '%s\n' "$bin" "$uninstaller" "$unit" | sort)" "$(cd "$root" && find . -type f | sed 's|^\./||' | sort)"

# --- re-running with nothing changed -------------------------------------------

before=$(fingerprint "$root/$bin" "$root/$unit" "$root/$uninstaller")
: > "$E2E_WORK/main.calls"
output=$(env SHOAL_ROOT="$root" SHOAL_SYSTEMCTL="$E2E_WORK/main.systemctl" SHOAL_DOWNLOAD_URL="$url/good" \
    SHOAL_ADVERTISE_ADDR=127.0.0.1 "$dash" -s -- --listen-addr 127.0.0.1:2399 < "$installer" 2>&1) && rc=0 || rc=$?
check "a re-run succeeds" succeeded
check "a re-run restarts, starts and reloads nothing" same "" "$(calls main)"
check "a re-run rewrites no file" same "$before" "$(fingerprint "$root/$bin" "$root/$unit" "$root/$uninstaller")"
check "a re-run does not download the binary again" same 1 "$(downloads)"
check "a re-run says the binary is up to date" says '^\[INFO\] .*up to date.*not downloading'

# --- changed settings: new unit, restart, same binary ----------------------------

before=$(fingerprint "$root/$bin")
: > "$E2E_WORK/main.calls"
run_install main "$url/good" --advertise-addr=127.0.0.1 --listen-addr 127.0.0.1:2399 --log-level debug
check "a re-run with a new flag succeeds" succeeded
check "the unit gets the new flag" grep -qx \
    'ExecStart=/usr/local/bin/shoal daemon --listen-addr 127.0.0.1:2399 --advertise-addr 127.0.0.1 --log-level debug' "$root/$unit"
check "a changed unit is reloaded and the daemon restarted" same \
    "$(printf 'daemon-reload\nrestart shoal.service')" "$(calls main)"
check "a changed unit leaves the binary alone" same "$before" "$(fingerprint "$root/$bin")"
check "a changed unit downloads nothing" same 1 "$(downloads)"

# --- a binary that no longer matches is replaced -----------------------------------

printf 'x' >> "$root/$bin"
: > "$E2E_WORK/main.calls"
run_install main "$url/good" --advertise-addr=127.0.0.1 --listen-addr 127.0.0.1:2399 --log-level debug
check "a damaged binary is reinstalled" cmp "$released" "$root/$bin"
check "a damaged binary is downloaded again" same 2 "$(downloads)"
check "a new binary restarts the daemon, without a reload" same "restart shoal.service" "$(calls main)"

# --- checksum mismatch ----------------------------------------------------------------

before=$(fingerprint "$root/$bin" "$root/$unit" "$root/$uninstaller")
: > "$E2E_WORK/main.calls"
installer_fails "a checksum mismatch is one [ERROR] line" main '^\[ERROR\] checksum mismatch' \
    SHOAL_DOWNLOAD_URL="$url/tampered" "$dash" "$installer"
check "a checksum mismatch changes no installed file" same "$before" \
    "$(fingerprint "$root/$bin" "$root/$unit" "$root/$uninstaller")"
check "a checksum mismatch calls no systemctl" same "" "$(calls main)"

new_root tampered systemd
installer_fails "a checksum mismatch on a fresh machine fails" tampered '^\[ERROR\] checksum mismatch' \
    SHOAL_DOWNLOAD_URL="$url/tampered" "$dash" "$installer"
check "a checksum mismatch on a fresh machine installs nothing" empty_root tampered

new_root missing systemd
installer_fails "a release that is not there is one [ERROR] line" missing '^\[ERROR\] could not download' \
    SHOAL_DOWNLOAD_URL="$url/empty" "$dash" "$installer"
check "a release that is not there installs nothing" empty_root missing

# --- no systemd ---------------------------------------------------------------------

new_root nosystemd
run_install nosystemd "$url/good" --advertise-addr 127.0.0.1
check "without systemd the install succeeds" succeeded
check "without systemd the binary is installed" cmp "$released" "$E2E_WORK/nosystemd/$bin"
check "without systemd no unit is written" test ! -e "$E2E_WORK/nosystemd/$unit"
check "without systemd no systemctl is called" same "" "$(cat "$E2E_WORK/nosystemd.calls")"
check "without systemd it warns" says '^\[WARN\] no systemd'
check "without systemd it says how to start the daemon" \
    says '^\[INFO\] .*by hand.*/usr/local/bin/shoal daemon --advertise-addr 127.0.0.1$'

# --- --no-start and SHOAL_SKIP_START ---------------------------------------------------

new_root nostart systemd
run_install nostart "$url/good" --no-start
check "--no-start succeeds" succeeded
check "--no-start writes the unit" grep -qx 'ExecStart=/usr/local/bin/shoal daemon' "$E2E_WORK/nostart/$unit"
check "--no-start enables but does not start" same \
    "$(printf 'daemon-reload\nenable shoal.service')" "$(calls nostart)"

new_root skipstart systemd
output=$(env SHOAL_ROOT="$E2E_WORK/skipstart" SHOAL_SYSTEMCTL="$E2E_WORK/skipstart.systemctl" \
    SHOAL_DOWNLOAD_URL="$url/good" SHOAL_SKIP_START=true "$dash" "$installer" 2>&1) && rc=0 || rc=$?
check "SHOAL_SKIP_START=true succeeds" succeeded
check "SHOAL_SKIP_START=true does not start" same \
    "$(printf 'daemon-reload\nenable shoal.service')" "$(calls skipstart)"
: > "$E2E_WORK/skipstart.calls"
run_install skipstart "$url/good"
check "a later run without --no-start starts the stopped daemon" same "start shoal.service" "$(calls skipstart)"

# SHOAL_ROOT without SHOAL_SYSTEMCTL: the tree gets its unit, the host's systemd is not told.
new_root image systemd
output=$(env -u SHOAL_SYSTEMCTL SHOAL_ROOT="$E2E_WORK/image" SHOAL_DOWNLOAD_URL="$url/good" \
    "$dash" "$installer" 2>&1) && rc=0 || rc=$?
check "SHOAL_ROOT alone succeeds" succeeded
check "SHOAL_ROOT alone writes the unit into the tree" test -f "$E2E_WORK/image/$unit"
check "SHOAL_ROOT alone says it does not call systemctl" says '^\[INFO\] .*not calling systemctl'

# --- piped into a plain `sh -` ------------------------------------------------------------

new_root piped systemd
output=$(cat "$installer" | env SHOAL_ROOT="$E2E_WORK/piped" SHOAL_SYSTEMCTL="$E2E_WORK/piped.systemctl" \
    SHOAL_DOWNLOAD_URL="$url/good" SHOAL_DATA_DIR=/srv/shoal sh - 2>&1) && rc=0 || rc=$?
check "curl | sh - installs" succeeded
check "curl | sh - installs the released binary" cmp "$released" "$E2E_WORK/piped/$bin"
check "curl | sh - takes SHOAL_DATA_DIR into the unit" grep -qx \
    'ExecStart=/usr/local/bin/shoal daemon --data-dir /srv/shoal' "$E2E_WORK/piped/$unit"
check "curl | sh - starts the daemon" same \
    "$(printf 'daemon-reload\nenable shoal.service\nstart shoal.service')" "$(calls piped)"

# --- a truncated download runs nothing ----------------------------------------------------

size=$(stat -c %s "$installer")
last=$(tail -n 1 "$installer")
# A quarter, a half, three quarters, and everything but the line that calls main.
cuts=("$((size / 4))" "$((size / 2))" "$((size * 3 / 4))" "$((size - ${#last} - 1))")
for cut in "${cuts[@]}"; do
    new_root "cut$cut" systemd
    fetched=$(downloads)
    head -c "$cut" "$installer" | env SHOAL_ROOT="$E2E_WORK/cut$cut" SHOAL_SYSTEMCTL="$E2E_WORK/cut$cut.systemctl" \
        SHOAL_DOWNLOAD_URL="$url/good" "$dash" -s -- --listen-addr 127.0.0.1:2399 > /dev/null 2>&1
    check "the first $cut of $size bytes installs nothing" empty_root "cut$cut"
    check "the first $cut of $size bytes downloads nothing" same "$fetched" "$(downloads)"
done

# --- --binary -------------------------------------------------------------------------------

new_root local systemd
fetched=$(downloads)
run_install local "" --binary "$released" --no-start
check "--binary with sha256sums.txt beside it installs" succeeded
check "--binary installs that file" cmp "$released" "$E2E_WORK/local/$bin"
check "--binary verifies it against the checksum beside it" says '^\[INFO\] Verified sha256'
check "--binary downloads nothing" same "$fetched" "$(downloads)"

mkdir -p "$E2E_WORK/loose-bin"
cp "$released" "$E2E_WORK/loose-bin/shoal"
new_root loose systemd
installer_fails "--binary with no checksum anywhere needs --skip-checksum" loose '^\[ERROR\] .*--skip-checksum' \
    "$dash" "$installer" --binary "$E2E_WORK/loose-bin/shoal"
check "--binary with no checksum installs nothing" empty_root loose
run_install loose "" --binary "$E2E_WORK/loose-bin/shoal" --skip-checksum --no-start
check "--binary --skip-checksum installs" cmp "$released" "$E2E_WORK/loose/$bin"
check "--binary --skip-checksum warns" says '^\[WARN\] .*unverified'

new_root loose-url systemd
run_install loose-url "$url/good" --binary "$E2E_WORK/loose-bin/shoal" --no-start
check "--binary takes the checksum from SHOAL_DOWNLOAD_URL" says '^\[INFO\] Verified sha256'
check "--binary with SHOAL_DOWNLOAD_URL installs" cmp "$released" "$E2E_WORK/loose-url/$bin"

new_root local-tampered systemd
installer_fails "--binary with a wrong checksum beside it fails" local-tampered '^\[ERROR\] checksum mismatch' \
    "$dash" "$installer" --binary "$www/tampered/shoal-linux-$arch"
check "--binary with a wrong checksum installs nothing" empty_root local-tampered

# --- the machine ------------------------------------------------------------------------------

fake_uname() {
    mkdir -p "$E2E_WORK/uname-$1"
    printf '#!/bin/sh\nif [ "$1" = -m ]; then echo %s; else exec %s "$@"; fi\n' "$1" "$(command -v uname)" \
        > "$E2E_WORK/uname-$1/uname"
    chmod +x "$E2E_WORK/uname-$1/uname"
}
fake_uname riscv64
fake_uname aarch64
new_root arch systemd
installer_fails "an unsupported architecture is one [ERROR] line" arch '^\[ERROR\] unsupported architecture riscv64' \
    PATH="$E2E_WORK/uname-riscv64:$PATH" SHOAL_DOWNLOAD_URL="$url/good" "$dash" "$installer"
installer_fails "aarch64 asks for shoal-linux-arm64" arch '^\[ERROR\] .*no entry for shoal-linux-arm64' \
    PATH="$E2E_WORK/uname-aarch64:$PATH" SHOAL_DOWNLOAD_URL="$url/good" "$dash" "$installer"
check "a machine it cannot serve gets nothing installed" empty_root arch

# Without curl it downloads with wget: a PATH holding every command but curl.
nocurl=$E2E_WORK/nocurl
mkdir -p "$nocurl"
for dir in /usr/local/sbin /usr/local/bin /usr/sbin /usr/bin /sbin /bin; do
    for cmd in "$dir"/*; do
        name=${cmd##*/}
        [ "$name" = curl ] || [ -e "$nocurl/$name" ] || ln -s "$cmd" "$nocurl/$name"
    done
done
new_root wget systemd
fetched=$(downloads)
output=$(env PATH="$nocurl" SHOAL_ROOT="$E2E_WORK/wget" SHOAL_SYSTEMCTL="$E2E_WORK/wget.systemctl" \
    SHOAL_DOWNLOAD_URL="$url/good" "$dash" "$installer" --no-start 2>&1) && rc=0 || rc=$?
check "without curl it downloads with wget" succeeded
check "the wget download is the released binary" cmp "$released" "$E2E_WORK/wget/$bin"
check "the wget download fetched the binary" same "$((fetched + 1))" "$(downloads)"

new_root args systemd
installer_fails "an unknown argument is one [ERROR] line" args "^\[ERROR\] unknown argument '--bogus'" \
    SHOAL_DOWNLOAD_URL="$url/good" "$dash" "$installer" --bogus
installer_fails "a flag value systemd would misread is refused" args '^\[ERROR\] --advertise-addr' \
    SHOAL_DOWNLOAD_URL="$url/good" "$dash" "$installer" --advertise-addr '10.0.0.5 --socket /x'
installer_fails "a bad log level is refused" args '^\[ERROR\] --log-level' \
    SHOAL_DOWNLOAD_URL="$url/good" SHOAL_LOG_LEVEL=loud "$dash" "$installer"
installer_fails "no SHOAL_DOWNLOAD_URL and no --binary is one [ERROR] line" args '^\[ERROR\] SHOAL_DOWNLOAD_URL' \
    "$dash" "$installer"
check "refused arguments install nothing" empty_root args

check_fails "without SHOAL_ROOT it must run as root" '^\[ERROR\] .*must run as root' \
    bash -c 'setpriv --reuid=65534 --regid=65534 --clear-groups env -u SHOAL_ROOT \
        SHOAL_DOWNLOAD_URL="$1" "$2" -s < "$3"' _ "$url/good" "$dash" "$installer"

# --- uninstall ---------------------------------------------------------------------------------

mkdir -p "$root/var/lib/shoal"
echo state > "$root/var/lib/shoal/raft.log"
: > "$E2E_WORK/main.calls"
output=$("$root/$uninstaller" 2>&1) && rc=0 || rc=$?
check "the uninstall script succeeds" succeeded
check "uninstall stops, disables and reloads" same \
    "$(printf 'stop shoal.service\ndisable shoal.service\ndaemon-reload')" "$(calls main)"
check "uninstall removes the binary, the unit and itself" \
    bash -c '! [ -e "$1/$2" ] && ! [ -e "$1/$3" ] && ! [ -e "$1/$4" ]' _ "$root" "$bin" "$unit" "$uninstaller"
check "uninstall keeps the node's state" test -f "$root/var/lib/shoal/raft.log"
check "uninstall says where the state was kept" says '^\[INFO\] Kept .*var/lib/shoal'

mkdir -p "$E2E_WORK/piped/srv/shoal"
echo state > "$E2E_WORK/piped/srv/shoal/raft.log"
output=$("$E2E_WORK/piped/$uninstaller" --purge 2>&1) && rc=0 || rc=$?
check "uninstall --purge succeeds" succeeded
check "uninstall --purge removes the data dir the unit named" test ! -e "$E2E_WORK/piped/srv/shoal"
check "uninstall --purge leaves no file" same "" "$(find "$E2E_WORK/piped" -type f)"

output=$("$E2E_WORK/nosystemd/$uninstaller" 2>&1) && rc=0 || rc=$?
check "uninstall without systemd succeeds" succeeded
check "uninstall without systemd calls no systemctl" same "" "$(cat "$E2E_WORK/nosystemd.calls")"
check "uninstall without systemd leaves no file" same "" "$(find "$E2E_WORK/nosystemd" -type f)"

# --- nothing left behind -------------------------------------------------------------------------

check "the installer leaves no temporary file" same "" "$(find "$TMPDIR" -mindepth 1)"
check "no staging file is left beside what was installed" same "" \
    "$(find "$E2E_WORK" -path "$E2E_WORK/www" -prune -o -name '.shoal*' -print)"
kill "$server" 2>/dev/null
wait "$server" 2>/dev/null
check "the HTTP server is gone" no_process_mentions "$www"
