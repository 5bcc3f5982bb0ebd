"""The regression corpus of planted secrets: one span per credential shape, and the leak check.

Every shape here once reached (or could reach) the LLM endpoint or an MCP client. Each entry puts
its secret where traces carry it (attributes, tool arguments, prompts, errors, events) and names
the exact secret strings; `leaked_shapes` says which shapes still show through some text, also
after upper(), reverse() or any cut that keeps 12 characters of a secret.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

MIN_FRAGMENT = 12
"""A shown fragment of a secret this long (or the whole secret, if shorter) counts as a leak."""


@dataclass(frozen=True)
class PlantedSecret:
    """One credential shape: the span columns that carry it, and the secret strings in them."""

    name: str
    columns: Mapping[str, str]
    secrets: tuple[str, ...]


def _attributes(values: Mapping[str, Any]) -> str:
    return json.dumps(values)


_NESTED_ONCE = json.dumps({"db": {"host": "db.internal", "password": "Qucduc1-Nt-4gHu2Uv8"}})
_NESTED_TWICE = json.dumps({"request": json.dumps({"body": json.dumps({"api_key": "Cmvj7-Jju-3tFv7Nd4Rb"})})})
_BASE64_CONFIG = base64.b64encode(b"[smtp]\nhost=mail.internal\npassword=C55-Zxqexc-3sZv9Ha\n").decode()
_BASE64_HEADER = base64.b64encode(b"user=deploy;Password=J58-Gpaqy-6rMt0Md;").decode()

CORPUS: tuple[PlantedSecret, ...] = (
    # Shapes with a distinctive prefix.
    PlantedSecret("anthropic key", {"output_text": "using key sk-ant-api03-Vc4Wk8Mn3Aq4Bq7Wk2Zn8Yx4Ng3Fc4 now"},
                  ("sk-ant-api03-Vc4Wk8Mn3Aq4Bq7Wk2Zn8Yx4Ng3Fc4",)),
    PlantedSecret("openai project key", {"input_text": "OPENAI key is sk-proj-En5Sa7Az3Fu4Ss8Tg4Yz8Xc3Rc8"},
                  ("sk-proj-En5Sa7Az3Fu4Ss8Tg4Yz8Xc3Rc8",)),
    PlantedSecret("stripe live key", {"tool_arguments": '{"charge": 5, "via": "sk_live_1zY16DjRnqNZfaaeU0big1rk"}'},
                  ("sk_live_1zY16DjRnqNZfaaeU0big1rk",)),
    PlantedSecret("aws access key id", {"tool_result": "loaded AKIAQ1MDZBEX0DV2AQ7W from profile"},
                  ("AKIAQ1MDZBEX0DV2AQ7W",)),
    PlantedSecret("aws secret access key",
                  {"tool_result": "aws_secret_access_key = hEphnVLrdFRHM/T3AGQNV/yPtPhvSUze1Bu3Nt"},
                  ("hEphnVLrdFRHM/T3AGQNV/yPtPhvSUze1Bu3Nt",)),
    PlantedSecret("github token", {"output_text": "git push with ghp_00X6a87U876m0555K8885t857797Ds926B8s"},
                  ("ghp_00X6a87U876m0555K8885t857797Ds926B8s",)),
    PlantedSecret("github fine-grained token", {"tool_arguments": "gh auth github_pat_11WT7PG1V1cmcV1Kh2Fi2Vv3Lx0Ed9"},
                  ("github_pat_11WT7PG1V1cmcV1Kh2Fi2Vv3Lx0Ed9",)),
    PlantedSecret("slack bot token", {"error_message": "slack rejected xoxb-5737-79148370-Af7VbFw5Jj2Zv"},
                  ("xoxb-5737-79148370-Af7VbFw5Jj2Zv",)),
    PlantedSecret("google api key", {"attributes": _attributes({"maps.key": "AIzaSyW-9yYsci55DdkWUdDY-x1jHSG1kxKVLNB"})},
                  ("AIzaSyW-9yYsci55DdkWUdDY-x1jHSG1kxKVLNB",)),
    PlantedSecret("hugging face token", {"tool_result": "HF_HUB hf_Ck2Zd0Cx4Tg9Sh4MwHh0Gk5Xu3Bt2Zs9Yy"},
                  ("hf_Ck2Zd0Cx4Tg9Sh4MwHh0Gk5Xu3Bt2Zs9Yy",)),
    PlantedSecret("jwt", {"input_text": "session eyJhbGciOiJIUzI1NiJ9.eyJxtSYtBbSdHC2jkvPsSr8.Gd2sC6hJz2Kj3Vu2Js1Mf9Nw3 ok"},
                  ("eyJhbGciOiJIUzI1NiJ9.eyJxtSYtBbSdHC2jkvPsSr8.Gd2sC6hJz2Kj3Vu2Js1Mf9Nw3",)),
    PlantedSecret("gitlab token", {"tool_arguments": '{"cmd": "git clone https://gitlab.example.com/x.git", '
                                                     '"header": "PRIVATE-TOKEN glpat-Bw3Rx2Qn4Ny8Lr4Bb5Rx"}'},
                  ("glpat-Bw3Rx2Qn4Ny8Lr4Bb5Rx",)),
    PlantedSecret("npm token", {"tool_result": "//registry.npmjs.org/:_authToken npm_Xu9Qc3Bd1Xc6Vk9Yu0Cj5Uz3Zz1Pi3Sy7Vj1"},
                  ("npm_Xu9Qc3Bd1Xc6Vk9Yu0Cj5Uz3Zz1Pi3Sy7Vj1",)),
    PlantedSecret("sendgrid key", {"error_message": "401 from SendGrid for SG.Nd9Dd9By5Ju1Va5Nm1Df1Tk.Lh5Ga9Zy1Ly9Bw2Ew8Hm2Wv7Mm1Uj2Sx8Wd"},
                  ("SG.Nd9Dd9By5Ju1Va5Nm1Df1Tk.Lh5Ga9Zy1Ly9Bw2Ew8Hm2Wv7Mm1Uj2Sx8Wd",)),
    PlantedSecret("google oauth access token", {"output_text": "calendar call with ya29.a0WrQ4GZBg3Qg7Xh3Rh3Ap2Tz7Kg8Kp6Ja"},
                  ("ya29.a0WrQ4GZBg3Qg7Xh3Rh3Ap2Tz7Kg8Kp6Ja",)),
    PlantedSecret("google oauth refresh token", {"tool_result": "stored 1//0wSr7Pf7Nt7Zp7Jn7Pg2Gy4Kn2Lw6Pf1Vp for later"},
                  ("1//0wSr7Pf7Nt7Zp7Jn7Pg2Gy4Kn2Lw6Pf1Vp",)),
    PlantedSecret("slack webhook url", {"tool_arguments": '{"url": "https://hooks.slack.com/services/T07X4XU3K/B40Q7TJ0X/'
                                                          'rF3hTm0Zg3Uf3Yc4Qc7Pw0By"}'},
                  ("T07X4XU3K/B40Q7TJ0X/rF3hTm0Zg3Uf3Yc4Qc7Pw0By",)),
    PlantedSecret("discord webhook url", {"output_text": "posted to https://discord.com/api/webhooks/247056475192966603/"
                                                         "Zd1Uy2Pr2Nv7Ei9Wm0Qj3Vk2Jk6Kn2Xq"},
                  ("247056475192966603/Zd1Uy2Pr2Nv7Ei9Wm0Qj3Vk2Jk6Kn2Xq",)),
    # Key names and connection strings.
    PlantedSecret("azure storage connection string",
                  {"tool_arguments": "DefaultEndpointsProtocol=https;AccountName=prodlogs;"
                                     "AccountKey=Bm6Jp3Bn9Ur7Us9Wa0Bn2Uj0Em0Ss1Za+Jw/Jh==;EndpointSuffix=core.windows.net"},
                  ("Bm6Jp3Bn9Ur7Us9Wa0Bn2Uj0Em0Ss1Za+Jw/Jh==",)),
    PlantedSecret("azure service bus connection string",
                  {"attributes": _attributes({"messaging.connection": "Endpoint=sb://bus.servicebus.windows.net/;"
                                              "SharedAccessKeyName=RootManageSharedAccessKey;"
                                              "SharedAccessKey=Ek2Kd6Ta4Ty4Na5Wx2Aw0Tr2Eu9Bw0Mc5Lq8Ah8Ek="})},
                  ("Ek2Kd6Ta4Ty4Na5Wx2Aw0Tr2Eu9Bw0Mc5Lq8Ah8Ek=",)),
    PlantedSecret("azure sas signature",
                  {"tool_result": "GET https://acct.blob.core.windows.net/c/f.txt?sv=2022-11-02&se=2026-01-01"
                                  "&sp=r&sig=Dm5Ue2Yf4Bz8Vr%1DDg9Ya3Zh3Qf%3S&x=1"},
                  ("Dm5Ue2Yf4Bz8Vr%1DDg9Ya3Zh3Qf%3S",)),
    PlantedSecret("DB_PASS assignment", {"input_text": "env:\nDB_HOST=db.internal\nDB_PASS=Km-Pygw-2618!rZ1\nDEBUG=1"},
                  ("Km-Pygw-2618!rZ1",)),
    PlantedSecret("_PW assignment", {"tool_arguments": '{"command": "SMTP_PW=Mrfw-Kb9f-Ay23 ./send.sh"}'},
                  ("Mrfw-Kb9f-Ay23",)),
    PlantedSecret("auth field", {"attributes": _attributes({"http.url": "https://api.internal/x",
                                                            "auth": "qct-depptj:Rdwp-Kv0Zv3-Ec6"})},
                  ("qct-depptj:Rdwp-Kv0Zv3-Ec6",)),
    PlantedSecret("url-encoded password", {"name": "POST /login?user=ops&password%3DVrjFqg-Ud-86tU%26next%3D%2F"},
                  ("VrjFqg-Ud-86tU",)),
    PlantedSecret("admin password in prose", {"output_text": "Sure! The admin password is Hgt0r-Wgw1d-2104 and the "
                                                             "username is root."},
                  ("Hgt0r-Wgw1d-2104",)),
    PlantedSecret("quoted passphrase in prose", {"input_text": "the vault passphrase was 'correct h0rse battery stapl3'"},
                  ("correct h0rse battery stapl3",)),
    PlantedSecret("json password", {"tool_arguments": '{"user": "app", "password": "Tdju-Xn-Zg1Mb9Qh"}'},
                  ("Tdju-Xn-Zg1Mb9Qh",)),
    PlantedSecret("json nested in a json string", {"tool_arguments": json.dumps({"config": _NESTED_ONCE})},
                  ("Qucduc1-Nt-4gHu2Uv8",)),
    PlantedSecret("json nested two levels deep", {"tool_result": json.dumps({"wrapped": _NESTED_TWICE})},
                  ("Cmvj7-Jju-3tFv7Nd4Rb",)),
    PlantedSecret("base64-wrapped password", {"tool_result": f"config blob: {_BASE64_CONFIG}"},
                  (_BASE64_CONFIG, "C55-Zxqexc-3sZv9Ha")),
    PlantedSecret("base64 in json", {"attributes": _attributes({"k8s.configmap.data": _BASE64_HEADER})},
                  (_BASE64_HEADER, "J58-Gpaqy-6rMt0Md")),
    PlantedSecret("key split across two attributes",
                  {"attributes": _attributes({"deploy.key_head": "Sp1itE4fsHe5Hg7Sm", "deploy.key_tail": "Sp1itB4bqQh8Up4Ty"})},
                  ("Sp1itE4fsHe5Hg7Sm", "Sp1itB4bqQh8Up4Ty")),
    # Generic: a long random token beside a word that says what it is.
    PlantedSecret("credential beside its name", {"output_text": "use credential 4mN7bK8tD2eH6hQ0dG5yJ4hP for the job"},
                  ("4mN7bK8tD2eH6hQ0dG5yJ4hP",)),
    PlantedSecret("signing key in prose", {"input_text": "The webhook signing key for prod: whsec_Ep1Xn3Lr8Ae6Cp0Kn7Lq"},
                  ("whsec_Ep1Xn3Lr8Ae6Cp0Kn7Lq",)),
    PlantedSecret("bearer header", {"attributes": _attributes({"http.request.header.authorization":
                                                               ["Bearer 7Yk3Jf3Zs2Dk6Rk7Wv2Qj"]})},
                  ("7Yk3Jf3Zs2Dk6Rk7Wv2Qj",)),
    PlantedSecret("basic auth header", {"error_message": "401 for Authorization: Basic SQNvtU35AqDdg5krKXG8THa8"},
                  ("SQNvtU35AqDdg5krKXG8THa8",)),
    PlantedSecret("password in a url", {"tool_arguments": "psql postgres://app:Ujz-Xt-Tq9Yh6Ku@db.internal:5432/prod"},
                  ("Ujz-Xt-Tq9Yh6Ku",)),
    PlantedSecret("private key", {"tool_result": "-----BEGIN RSA PRIVATE KEY-----\nMIIEpAIBAAKCAQEAm0Lj8Uh7Qs7Kz1Ac7Zz0\n"
                                                 "Qr2Qs5Mf7JhSq2Rc4Bw4Mf1\n-----END RSA PRIVATE KEY-----"},
                  ("MIIEpAIBAAKCAQEAm0Lj8Uh7Qs7Kz1Ac7Zz0", "Qr2Qs5Mf7JhSq2Rc4Bw4Mf1")),
    PlantedSecret("password flag", {"tool_arguments": "mysql -u root --password Agvf-Mn-4dV5 -h db"},
                  ("Agvf-Mn-4dV5",)),
    PlantedSecret("session cookie", {"attributes": _attributes({"http.request.header.cookie":
                                                                ["theme=dark; sessionid=Df4Xs1Jm7Ei5Sz7Au0Gf"]})},
                  ("Df4Xs1Jm7Ei5Sz7Au0Gf",)),
    # Other columns that carry text.
    PlantedSecret("secret in an event", {"events": json.dumps([{"name": "exception", "timeUnixNano": "1", "attributes": {
        "exception.message": "auth failed for token=Gr7mz-Yzk-He8Vj6Yn0"}}])},
                  ("Gr7mz-Yzk-He8Vj6Yn0",)),
    PlantedSecret("secret in resource attributes", {"resource_attributes": _attributes({
        "service.name": "helper", "deployment.api_key": "Nyu2rxns-Qnc-Ds2Kf7"})},
                  ("Nyu2rxns-Qnc-Ds2Kf7",)),
    PlantedSecret("secret in a status message", {"status_message": "upstream said: invalid api_key=By9rjk-Mwa-Vb7Ez0"},
                  ("By9rjk-Mwa-Vb7Ez0",)),
    PlantedSecret("secret in a session id", {"session_id": "sess token=Tajh0fx-Ydu-Ed3Ge8Vu"},
                  ("Tajh0fx-Ydu-Ed3Ge8Vu",)),
)


def fragments(secret: str) -> set[str]:
    """What counts as showing `secret`: every MIN_FRAGMENT-long piece of it, upper-cased or reversed too."""
    forms = {secret, secret.upper(), secret[::-1], secret.upper()[::-1]}
    size = min(MIN_FRAGMENT, len(secret))
    return {form[start:start + size] for form in forms for start in range(len(form) - size + 1)}


def leaked_shapes(texts: Iterable[str], corpus: Iterable[PlantedSecret] = CORPUS) -> list[str]:
    """Names of the shapes any of whose secrets shows (in some form) in `texts`."""
    seen = "\n".join(texts)
    return [planted.name for planted in corpus
            if any(fragment in seen for secret in planted.secrets for fragment in fragments(secret))]
