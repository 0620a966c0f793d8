#!/bin/sh
# Writes the viewer's runtime configuration, /config.json, when the container starts (the
# nginx image runs /docker-entrypoint.d/*.sh before nginx; a failure stops the start).
#
#   ODE_VIEWER_API_URL=https://api.example.com  ->  {"apiUrl": "https://api.example.com"}
#   unset or empty                              ->  the build's own config.json if it has one,
#                                                   else {} (the API is the viewer's origin)
#
# The file goes to /tmp/ode-viewer (the root filesystem is read-only in Kubernetes; /tmp is
# an emptyDir), where viewer-nginx.conf serves /config.json from. ODE_VIEWER_CONFIG_DIR and
# ODE_VIEWER_HTML_DIR move both places (for tests of this script).
set -eu

config_dir="${ODE_VIEWER_CONFIG_DIR:-/tmp/ode-viewer}"
html_dir="${ODE_VIEWER_HTML_DIR:-/usr/share/nginx/html}"
api_url="${ODE_VIEWER_API_URL:-}"

fail() {
    echo "$0: $*" >&2
    exit 1
}

mkdir -p "$config_dir" || fail "cannot create $config_dir"
tmp="$config_dir/.config.json.$$"
newline='
'

if [ -n "$api_url" ]; then
    # An origin, optionally with a path: http(s)://host[:port][/path]. Anything else (quotes,
    # spaces, a query) is refused, which also keeps the JSON below well-formed.
    case "$api_url" in
        *"$newline"*) fail "ODE_VIEWER_API_URL must be one line" ;;
    esac
    if ! printf '%s\n' "$api_url" |
        grep -Eqx 'https?://([A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?(\.[A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?)*|\[[0-9A-Fa-f:.]+\])(:[0-9]{1,5})?(/[A-Za-z0-9._~%/-]*)?'; then
        fail "ODE_VIEWER_API_URL must be an http:// or https:// URL such as https://api.example.com, not '$api_url'"
    fi
    while [ "${api_url%/}" != "$api_url" ]; do
        api_url="${api_url%/}"
    done
    printf '{"apiUrl": "%s"}\n' "$api_url" >"$tmp"
    echo "$0: config.json: apiUrl $api_url"
elif [ -f "$html_dir/config.json" ]; then
    cp "$html_dir/config.json" "$tmp"
    echo "$0: config.json: the build's own (ODE_VIEWER_API_URL is not set)"
else
    printf '{}\n' >"$tmp"
    echo "$0: config.json: {} (ODE_VIEWER_API_URL is not set: the API is the viewer's origin)"
fi
chmod 0644 "$tmp"
mv -f "$tmp" "$config_dir/config.json"
