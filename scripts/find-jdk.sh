# Sourced by ./performer, ./test.sh and .ci/run: sets JAVA_HOME to a JDK >= 25.
# Order: $JAVA_HOME if it is new enough, then /usr/lib/jvm/*, then `java` on PATH.
_jdk_major() {  # prints the feature version of the JDK at $1, or nothing
  local rel="$1/release"
  [ -x "$1/bin/javac" ] || return 0
  if [ -f "$rel" ]; then
    sed -n 's/^JAVA_VERSION="\([0-9]*\).*/\1/p' "$rel"
  fi
}
_pick_jdk() {
  local cand
  if [ -n "${JAVA_HOME:-}" ]; then
    local v; v=$(_jdk_major "$JAVA_HOME")
    if [ -n "$v" ] && [ "$v" -ge 25 ]; then echo "$JAVA_HOME"; return 0; fi
  fi
  for cand in /usr/lib/jvm/temurin-25* /usr/lib/jvm/*25* /usr/lib/jvm/* /opt/java/* /opt/jdk*; do
    [ -d "$cand" ] || continue
    local v; v=$(_jdk_major "$cand")
    if [ -n "$v" ] && [ "$v" -ge 25 ]; then echo "$cand"; return 0; fi
  done
  if command -v javac >/dev/null 2>&1; then
    cand=$(dirname "$(dirname "$(readlink -f "$(command -v javac)")")")
    local v; v=$(_jdk_major "$cand")
    if [ -n "$v" ] && [ "$v" -ge 25 ]; then echo "$cand"; return 0; fi
  fi
  return 1
}
if _found=$(_pick_jdk); then
  export JAVA_HOME="$_found"
  export PATH="$JAVA_HOME/bin:$PATH"
else
  echo "error: this project needs a JDK 25 or newer (javac + jdk.incubator.vector)." >&2
  echo "  looked at: \$JAVA_HOME (${JAVA_HOME:-unset}), /usr/lib/jvm/*, /opt/java/*, javac on PATH" >&2
  echo "  install one (e.g. Temurin 25) and set JAVA_HOME to it." >&2
  return 1 2>/dev/null || exit 1
fi
