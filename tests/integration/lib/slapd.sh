# shellcheck shell=bash
# A private OpenLDAP slapd for the LDAP tests and the LDAP bench: TLS from a
# test CA made at start (openssl), the project's AD schema
# (ldap/mailvault-ad.schema), the memberof overlay, and a generated
# directory under dc=example,dc=com. Listens on 127.0.0.1 on free ports,
# keeps everything under DIR/slapd, never touches the system's slapd.
# Source services.sh first (free_port, wait_for, _svc_track, stop_services).
#
#   start_slapd DIR [USERS=2000]
#     Sets SLAPD_URL (ldap://127.0.0.1:PORT, StartTLS offered), SLAPD_LDAPS_URL
#     (ldaps://127.0.0.1:PORT), SLAPD_PORT, SLAPD_LDAPS_PORT, SLAPD_PID, SLAPD_DIR,
#     SLAPD_CA (the test CA, PEM), SLAPD_OTHER_CA (a CA that signed nothing here),
#     SLAPD_BIND_DN / SLAPD_BIND_PW_FILE (the lookup account), SLAPD_BASE.
#     Env: SLAPD_NO_TLS=1 starts it without any TLS (no StartTLS, no ldaps);
#     SLAPD_GROUPS (20 leaf groups), SLAPD_ADDRESSES (4 proxyAddresses a user).
#   slapd_admin CMD ARGS...   run ldapadd/ldapmodify/ldapdelete/ldapsearch as the
#                             rootdn over StartTLS (or clear with SLAPD_NO_TLS)
#   stop_slapd                stop it (stop_services does too)
#
# The directory (USERS users, uid=uNNNN,ou=people; password "pw-uNNNN"):
#   every user: inetOrgPerson + AD user, objectCategory person, sAMAccountName
#     uNNNN, userPrincipalName uNNNN@corp.example.com, mail uNNNN@example.com,
#     proxyAddresses SMTP:uNNNN@example.com, smtp:user.NNNN@example.com,
#     x500:/o=Test/cn=uNNNN, sip:uNNNN@example.com
#   u0002: proxyAddresses also "smtp:not an address" and "garbage" (malformed)
#   u0003: no address attribute at all
#   u0004: mailAlternativeAddress alt.0004@example.org
#   groups (ou=groups, groupOfNames + AD group): g-leaf-01..20, 50 members each
#     (u0001..u1000); g-team = {g-leaf-01, g-leaf-02}; g-all = {g-team} (nested
#     twice); g-helpdesk = {u0010, u0011}; g-support = {g-helpdesk}
#   shared mailboxes (ou=people, users too): sales (msExchDelegateListLink:
#     u0005 directly, and uid=ghost which does not exist), support (delegated
#     to g-support: u0010, u0011 through a nested group), archive (no delegates)
#   cn=mailvault,ou=service: the lookup account (read everything, password in
#     SLAPD_BIND_PW_FILE)
#   Size limit 1000 for everyone but the rootdn, paged results without a total
#   limit: a search without paging gets "Size limit exceeded".

MV_SLAPD_LIB=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)

_slapd_certs() {   # _slapd_certs DIR: test CA, server cert for 127.0.0.1/localhost, other CA
  local d=$1
  openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj "/CN=mailvault test CA" \
    -keyout "$d/ca.key" -out "$d/ca.pem" >/dev/null 2>&1 || return 1
  openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj "/CN=mailvault other CA" \
    -keyout "$d/other-ca.key" -out "$d/other-ca.pem" >/dev/null 2>&1 || return 1
  openssl req -newkey rsa:2048 -nodes -subj "/CN=localhost" \
    -keyout "$d/server.key" -out "$d/server.csr" >/dev/null 2>&1 || return 1
  printf 'subjectAltName=DNS:localhost,IP:127.0.0.1\nbasicConstraints=CA:FALSE\nextendedKeyUsage=serverAuth\n' >"$d/ext.cnf"
  openssl x509 -req -in "$d/server.csr" -CA "$d/ca.pem" -CAkey "$d/ca.key" -CAcreateserial \
    -days 2 -extfile "$d/ext.cnf" -out "$d/server.pem" >/dev/null 2>&1 || return 1
}

# The generated directory as LDIF for slapadd (users, service account) and
# for ldapadd (groups and mailboxes: added online so the memberof overlay
# writes memberOf).
_slapd_ldif() {   # _slapd_ldif DIR USERS
  "${MV_SVC_PY:-python3}" - "$1" "$2" "${SLAPD_GROUPS:-20}" "${SLAPD_ADDRESSES:-4}" <<'PYEOF'
import sys
d, users, groups, naddr = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
base = "dc=example,dc=com"
with open(f"{d}/base.ldif", "w") as f:
    f.write(f"dn: {base}\nobjectClass: dcObject\nobjectClass: organization\no: Example\ndc: example\n\n")
    for ou in ("people", "groups", "service"):
        f.write(f"dn: ou={ou},{base}\nobjectClass: organizationalUnit\nou: {ou}\n\n")
    f.write(f"dn: cn=mailvault,ou=service,{base}\nobjectClass: organizationalRole\n"
            f"objectClass: simpleSecurityObject\ncn: mailvault\nuserPassword: lookup-secret\n\n")
    for i in range(1, users + 1):
        n = f"{i:04d}"
        f.write(f"dn: uid=u{n},ou=people,{base}\nobjectClass: inetOrgPerson\nobjectClass: user\n"
                f"uid: u{n}\ncn: User {n}\nsn: {n}\nobjectCategory: person\n"
                f"sAMAccountName: u{n}\nuserPassword: pw-u{n}\n")
        if i != 3:
            f.write(f"userPrincipalName: u{n}@corp.example.com\nmail: u{n}@example.com\n")
            addrs = [f"SMTP:u{n}@example.com", f"smtp:user.{n}@example.com",
                     f"x500:/o=Test/cn=u{n}", f"sip:u{n}@example.com"]
            for k in range(4, naddr):
                addrs.append(f"smtp:alias{k}.{n}@example.com")
            for a in addrs[:max(naddr, 1)]:
                f.write(f"proxyAddresses: {a}\n")
        if i == 2:
            f.write("proxyAddresses: smtp:not an address\nproxyAddresses: garbage\n")
        if i == 4:
            f.write("mailAlternativeAddress: alt.0004@example.org\n")
        f.write("\n")
with open(f"{d}/online.ldif", "w") as f:
    def group(cn, members):
        f.write(f"dn: cn={cn},ou=groups,{base}\nobjectClass: groupOfNames\nobjectClass: group\n"
                f"cn: {cn}\nobjectCategory: group\n")
        for m in members:
            f.write(f"member: {m}\n")
        f.write("\n")
    per = 50
    for g in range(1, groups + 1):
        lo = (g - 1) * per + 1
        members = [f"uid=u{i:04d},ou=people,{base}" for i in range(lo, min(lo + per, users + 1))]
        group(f"g-leaf-{g:02d}", members or [f"uid=u0001,ou=people,{base}"])
    leaf = lambda g: f"cn=g-leaf-{g:02d},ou=groups,{base}"
    group("g-team", [leaf(1), leaf(2)])
    group("g-all", [f"cn=g-team,ou=groups,{base}"])
    group("g-helpdesk", [f"uid=u0010,ou=people,{base}", f"uid=u0011,ou=people,{base}"])
    group("g-support", [f"cn=g-helpdesk,ou=groups,{base}"])
    def mailbox(cn, delegates):
        f.write(f"dn: cn={cn},ou=people,{base}\nobjectClass: inetOrgPerson\nobjectClass: user\n"
                f"cn: {cn}\nsn: {cn}\nobjectCategory: person\nmail: {cn}@example.com\n"
                f"proxyAddresses: SMTP:{cn}@example.com\n")
        for dl in delegates:
            f.write(f"msExchDelegateListLink: {dl}\n")
        f.write("\n")
    mailbox("sales", [f"uid=u0005,ou=people,{base}", f"uid=ghost,ou=people,{base}"])
    mailbox("support", [f"cn=g-support,ou=groups,{base}"])
    mailbox("archive", [])
PYEOF
}

start_slapd() {
  local dir=$1 users=${2:-2000}
  local t0; t0=$(_svc_now)
  SLAPD_DIR="$dir/slapd"
  local d=$SLAPD_DIR
  rm -rf "$d"; mkdir -p "$d/db"
  SLAPD_BASE="dc=example,dc=com"
  SLAPD_BIND_DN="cn=mailvault,ou=service,$SLAPD_BASE"
  SLAPD_BIND_PW_FILE="$d/bind.pw"
  printf lookup-secret >"$SLAPD_BIND_PW_FILE"
  chmod 600 "$SLAPD_BIND_PW_FILE"
  local tls=""
  if [ "${SLAPD_NO_TLS:-0}" != 1 ]; then
    _slapd_certs "$d" || { _svc_log "slapd: openssl failed"; return 1; }
    tls="TLSCACertificateFile $d/ca.pem
TLSCertificateFile $d/server.pem
TLSCertificateKeyFile $d/server.key"
  fi
  cat >"$d/slapd.conf" <<EOF
# Private test slapd written by tests/integration/lib/slapd.sh
include /etc/ldap/schema/core.schema
include /etc/ldap/schema/cosine.schema
include /etc/ldap/schema/inetorgperson.schema
include $MV_SLAPD_LIB/ldap/mailvault-ad.schema
pidfile $d/slapd.pid
argsfile $d/slapd.args
modulepath /usr/lib/ldap
moduleload back_mdb
moduleload memberof
$tls
sizelimit size.soft=1000 size.hard=1000 size.prtotal=unlimited
timelimit 60

database mdb
maxsize 1073741824
# Test data made at each start: no fsync per write.
dbnosync
suffix "$SLAPD_BASE"
rootdn "cn=admin,$SLAPD_BASE"
rootpw admin-secret
directory $d/db
index objectClass eq
index uid,mail,cn,sAMAccountName,userPrincipalName eq
overlay memberof
memberof-group-oc groupOfNames
memberof-member-ad member
memberof-memberof-ad memberOf
memberof-refint true
access to attrs=userPassword
  by self write
  by anonymous auth
  by * none
access to *
  by dn.exact="$SLAPD_BIND_DN" read
  by self read
  by * none
EOF
  _slapd_ldif "$d" "$users" || { _svc_log "slapd: LDIF generation failed"; return 1; }
  slapadd -q -f "$d/slapd.conf" -l "$d/base.ldif" >"$d/slapadd.log" 2>&1 \
    || { _svc_fail slapadd "$d/slapadd.log"; return 1; }
  SLAPD_PORT=$(free_port)
  SLAPD_LDAPS_PORT=$(free_port)
  local urls="ldap://127.0.0.1:$SLAPD_PORT/"
  [ "${SLAPD_NO_TLS:-0}" = 1 ] || urls="$urls ldaps://127.0.0.1:$SLAPD_LDAPS_PORT/"
  slapd -f "$d/slapd.conf" -h "$urls" -d 0 >"$d/slapd.log" 2>&1 &
  SLAPD_PID=$!
  _svc_track "$SLAPD_PID"
  _svc_wait_up 20 "$SLAPD_PID" _svc_port_open "$SLAPD_PORT" || { _svc_fail slapd "$d/slapd.log"; return 1; }
  SLAPD_URL="ldap://127.0.0.1:$SLAPD_PORT"
  SLAPD_LDAPS_URL="ldaps://127.0.0.1:$SLAPD_LDAPS_PORT"
  SLAPD_CA="$d/ca.pem"
  SLAPD_OTHER_CA="$d/other-ca.pem"
  export SLAPD_URL SLAPD_LDAPS_URL SLAPD_PORT SLAPD_LDAPS_PORT SLAPD_PID SLAPD_DIR SLAPD_CA \
    SLAPD_OTHER_CA SLAPD_BIND_DN SLAPD_BIND_PW_FILE SLAPD_BASE
  slapd_admin ldapadd -f "$d/online.ldif" >"$d/ldapadd.log" 2>&1 \
    || { _svc_fail "slapd (ldapadd)" "$d/ldapadd.log"; return 1; }
  _svc_log "slapd on $SLAPD_URL $([ "${SLAPD_NO_TLS:-0}" = 1 ] && echo '(no TLS)' || echo "and $SLAPD_LDAPS_URL") with $users users ($(_svc_since "$t0")s)"
}

slapd_admin() {
  local cmd=$1; shift
  if [ "${SLAPD_NO_TLS:-0}" = 1 ]; then
    "$cmd" -x -H "$SLAPD_URL" -D "cn=admin,$SLAPD_BASE" -w admin-secret "$@"
  else
    LDAPTLS_CACERT="$SLAPD_CA" LDAPTLS_REQCERT=demand \
      "$cmd" -x -ZZ -H "$SLAPD_URL" -D "cn=admin,$SLAPD_BASE" -w admin-secret "$@"
  fi
}

stop_slapd() { if [ -n "${SLAPD_PID:-}" ]; then _svc_kill_wait "$SLAPD_PID"; fi; return 0; }
