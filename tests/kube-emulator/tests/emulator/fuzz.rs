//! A thousand random requests (methods, paths, bodies, content types): every
//! answer is a well-formed response and the emulator keeps serving.

use serde_json::Value;

use crate::util::env;

struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
    fn pick<'a>(&mut self, items: &[&'a str]) -> &'a str {
        items[(self.next() % items.len() as u64) as usize]
    }
}

/// 1000 random requests never crash the emulator; API answers are Status bodies or objects.
#[tokio::test]
async fn random_requests_keep_the_emulator_serving() {
    let e = env().await;
    let mut rng = Rng(0x5eed_1234_abcd_0001);
    let methods = ["GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS"];
    let paths = [
        "/api/v1/namespaces/default/configmaps",
        "/api/v1/namespaces/default/configmaps/fz",
        "/api/v1/namespaces/default/secrets/fz",
        "/api/v1/namespaces/default/pods/fz/log",
        "/api/v1/namespaces/default/pods/fz/status",
        "/apis/batch/v1/namespaces/default/jobs",
        "/apis/batch/v1/namespaces/default/jobs/fz",
        "/apis/batch/v1/namespaces/default/jobs/fz/status",
        "/api/v1/namespaces/fz",
        "/api/v1/namespaces",
        "/api/v1/namespaces/default/serviceaccounts/fz",
        "/api/v1/namespaces/default/events",
        "/api/v1/namespaces/%zz/configmaps/%",
        "/apis/batch/v1/jobs?labelSelector=a%20in%20(",
        "/api/v1/namespaces/default/configmaps?watch=1&resourceVersion=abc",
        "/api/v1/namespaces/default/configmaps?limit=x&continue=zzz",
        "/api/v1/namespaces/default/configmaps?fieldSelector=a%3D%3D%3Db",
        "/apis/batch/v1/namespaces/default/jobs/fz?dryRun=Maybe",
        "//api///v1",
        "/openapi/v3/apis/batch/v1",
        "/version",
    ];
    let types = [
        "application/json",
        "application/merge-patch+json",
        "application/strategic-merge-patch+json",
        "application/json-patch+json",
        "application/apply-patch+yaml",
        "application/yaml",
        "text/plain",
        "",
    ];
    let bodies = [
        "",
        "{",
        "null",
        "[]",
        "{}",
        "123",
        "\"s\"",
        r#"{"metadata":{"name":"fz"}}"#,
        r#"{"apiVersion":"batch/v1","kind":"Job","metadata":{"name":"fz"},"spec":{"template":{"spec":{"restartPolicy":"Never","containers":[{"name":"c","image":"x","env":[{"name":"EMULATOR_RUN_SECONDS","value":"0.01"}]}]}}}}"#,
        r#"{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"fz","labels":{"a":"b"}},"data":{"k":"v"}}"#,
        r#"{"spec":{"parallelism":"many","template":7}}"#,
        r#"[{"op":"add","path":"/x/y/z","value":1},{"op":"bogus"}]"#,
        r#"{"metadata":{"name":"fz","finalizers":["!!"],"resourceVersion":"-1"}}"#,
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: fz\n  : [\n",
        r#"{"$patch":"replace","data":{"a":null}}"#,
        "\u{0}\u{1}\u{2}",
    ];
    for i in 0..1000 {
        let method = rng.pick(&methods);
        let mut path = rng.pick(&paths).to_string();
        if rng.next().is_multiple_of(5) {
            path.push_str(if path.contains('?') {
                "&fieldManager=fuzz&force=true"
            } else {
                "?fieldManager=fuzz"
            });
        }
        let ct = rng.pick(&types);
        let mut body = rng.pick(&bodies).as_bytes().to_vec();
        if rng.next().is_multiple_of(7) && !body.is_empty() {
            let n = (rng.next() % body.len() as u64) as usize;
            body[n] = (rng.next() & 0xff) as u8;
        }
        let (code, headers, v) = e
            .raw(method, &path, (!ct.is_empty()).then_some(ct), body)
            .await;
        assert!(
            (200..600).contains(&code),
            "request {i}: {method} {path} -> {code}"
        );
        if code >= 400 && method != "HEAD" {
            assert_eq!(
                v["kind"], "Status",
                "request {i}: {method} {path} ({ct}) -> {code} {v}"
            );
            assert_eq!(v["code"], Value::from(code));
        }
        let _ = headers;
    }
    let (code, _, v) = e.raw("GET", "/api/v1/namespaces", None, vec![]).await;
    assert_eq!(code, 200);
    assert!(v["items"].as_array().is_some_and(|a| a.len() >= 4));
}
