namespace Fellows.Federation.Tests.Signatures;

/// <summary>Published test keys. They are test data from the specifications named beside each; never use them for anything else.</summary>
internal static class TestKeys
{
    // draft-cavage-http-signatures-12, Appendix C (1024-bit RSA, PKCS#1).
    public const string CavagePrivatePem = """
-----BEGIN RSA PRIVATE KEY-----
MIICXgIBAAKBgQDCFENGw33yGihy92pDjZQhl0C36rPJj+CvfSC8+q28hxA161QF
NUd13wuCTUcq0Qd2qsBe/2hFyc2DCJJg0h1L78+6Z4UMR7EOcpfdUE9Hf3m/hs+F
UR45uBJeDK1HSFHD8bHKD6kv8FPGfJTotc+2xjJwoYi+1hqp1fIekaxsyQIDAQAB
AoGBAJR8ZkCUvx5kzv+utdl7T5MnordT1TvoXXJGXK7ZZ+UuvMNUCdN2QPc4sBiA
QWvLw1cSKt5DsKZ8UETpYPy8pPYnnDEz2dDYiaew9+xEpubyeW2oH4Zx71wqBtOK
kqwrXa/pzdpiucRRjk6vE6YY7EBBs/g7uanVpGibOVAEsqH1AkEA7DkjVH28WDUg
f1nqvfn2Kj6CT7nIcE3jGJsZZ7zlZmBmHFDONMLUrXR/Zm3pR5m0tCmBqa5RK95u
412jt1dPIwJBANJT3v8pnkth48bQo/fKel6uEYyboRtA5/uHuHkZ6FQF7OUkGogc
mSJluOdc5t6hI1VsLn0QZEjQZMEOWr+wKSMCQQCC4kXJEsHAve77oP6HtG/IiEn7
kpyUXRNvFsDE0czpJJBvL/aRFUJxuRK91jhjC68sA7NsKMGg5OXb5I5Jj36xAkEA
gIT7aFOYBFwGgQAQkWNKLvySgKbAZRTeLBacpHMuQdl1DfdntvAyqpAZ0lY0RKmW
G6aFKaqQfOXKCyWoUiVknQJAXrlgySFci/2ueKlIE1QqIiLSZ8V8OlpFLRnb1pzI
7U1yQXnTAEFYM560yJlzUpOb1V4cScGd365tiSMvxLOvTA==
-----END RSA PRIVATE KEY-----
""";

    // draft-cavage-http-signatures-12, Appendix C.
    public const string CavagePublicPem = """
-----BEGIN PUBLIC KEY-----
MIGfMA0GCSqGSIb3DQEBAQUAA4GNADCBiQKBgQDCFENGw33yGihy92pDjZQhl0C3
6rPJj+CvfSC8+q28hxA161QFNUd13wuCTUcq0Qd2qsBe/2hFyc2DCJJg0h1L78+6
Z4UMR7EOcpfdUE9Hf3m/hs+FUR45uBJeDK1HSFHD8bHKD6kv8FPGfJTotc+2xjJw
oYi+1hqp1fIekaxsyQIDAQAB
-----END PUBLIC KEY-----
""";

    // Generated once with OpenSSL for Fellows' pinned outgoing-signature tests (RFC 9421's
    // test-key-rsa has unequal prime lengths, which .NET refuses to import).
    public const string FixedRsaPrivatePem = """
-----BEGIN PRIVATE KEY-----
MIIEvQIBADANBgkqhkiG9w0BAQEFAASCBKcwggSjAgEAAoIBAQCvLMdVjveOw4Si
sGJlrS6OufOwBsKr9ezPozTQ76GMhaRwaVmta3bpBUa4lvnIucfenH0qw3Brk5TA
dC/TWPIOzGMEQfmNKzg56+cvIDr7urQSoCl+4MfVabaPOjTc22hNpyuQyn6LZTeq
96kMDQj5Huj/z8Szyg79jA25hsoujkX1vCJirx2++MfT3+ObfH5uwVAE2/hF97j3
0wd80lnSzQYsNextld3Q695rTF4AcksHvjdzvAfvk9yevVKUq0ea4F5+ydlM45YU
oBHOqwgCpu8GlJCa+WkaVRRQ1UafUbiAXyV3jhYjLFFmKqbtu+Qoo7sT0XhT6HqV
GGJcmLb1AgMBAAECggEAIGEIxFQNhrY1k0PCoFQjRa7x7/DD9XiayeN7LP6KMBj4
xO14LcGuJFK9GHwRlgxe+RMYYLno0v2fsnYXa/umHF2jlMMkHzekqDImVJPiyype
xA2WNfVTAqvMWouR/1vP2wCiIRyIyPfP0xp9hPR42uFfhH9RNsFLxYpodAlJ4FJN
0slTXt0jqHubfppQdSyii3N5N4jjBB5lQIRy6P8Uw6yXdewNgFca4ifD7l6qxt0T
TE4mPqEkwQHRphHIYxVsOLWKJMtWL3KY1WydUceD4sEalBr8JMLhcIy0vqx0v8TJ
F8csLwqWaqSFB+I0Y0oCj98hm0BkXK8Y9P5iWa07QQKBgQDoo8borKmRjhwle3yw
66hzZbMeal+ORKYOklkg7fBF0kyBEst0f2pJ2HGEYVYjFNwNuZ0gHSbHDUhmV1o3
mveKwUSx7DSnFX2IhoKcabFyOfkfhtEGDN3KKkWhWKBnIQJ3uOP5F42doxhoA5Oe
3APPlVW9T1w+NVoPYjrGPFQlwQKBgQDAw9BrQjZq0GD22grkdpZrfsQTpbHigr//
nfnvvdicPbeCrInQzV1Ab9g3qciPAgMaTmDxiTLt5uqELnOd0Aw0YCP+5lVVJ2EP
QtyMdURGtt6L+t9yiEDn4pRmtazyd1GxCVN0ZEvyuTZUEQxuIvHS/dprrA9U8jRL
Rn2zdKJmNQKBgQDJA9r3aVoLvzNq38zaQoYHUDT5bwiqMX8a0DHbVj1q10/rp4XN
X9tDe5Z6wHBhV8DcyymNeiLrk/qfE5OMwIZsipsE8gh85wDVWwS4iksdXCJ6r08l
XzC1YtlPlPjko40yTbwOm99t+mM4XP7NIWbZkzvGnDAkQI1VBZereq1rAQKBgAFk
6Sr9bZtUKn9ekFmaqffZEN37gs/aljzpDZe4TcrDf4JIcS67bYM7y9qLNdIi95bH
Hlhg36ds1iFinJ91k8EFOP1s+Q0GneMYXrP9XSMNy4pDpD4V0jJbJyufAMM4LbUU
FjBvUUVOJaByBx78zbby8xN4SRwaLFqnBd24aDxJAoGAN0NLDHoGrJSQUwMVE4sW
P4eZpylBHBxktJEM9s4oOh4TBvgEjUj0zIu+NjCcTqsNgo2+nbtgVYpCWMn9wkUd
Y+6tnEnKgll+qH3QTf6QeUkpj3Bg47hTYfA10M5KrBniP0FhwgLQeCbApAPfJU+t
7p/6JNu9OWhplx1AM12jiw4=
-----END PRIVATE KEY-----
""";

    public const string FixedRsaPublicPem = """
-----BEGIN PUBLIC KEY-----
MIIBIjANBgkqhkiG9w0BAQEFAAOCAQ8AMIIBCgKCAQEAryzHVY73jsOEorBiZa0u
jrnzsAbCq/Xsz6M00O+hjIWkcGlZrWt26QVGuJb5yLnH3px9KsNwa5OUwHQv01jy
DsxjBEH5jSs4OevnLyA6+7q0EqApfuDH1Wm2jzo03NtoTacrkMp+i2U3qvepDA0I
+R7o/8/Es8oO/YwNuYbKLo5F9bwiYq8dvvjH09/jm3x+bsFQBNv4Rfe499MHfNJZ
0s0GLDXsbZXd0Ovea0xeAHJLB743c7wH75Pcnr1SlKtHmuBefsnZTOOWFKARzqsI
AqbvBpSQmvlpGlUUUNVGn1G4gF8ld44WIyxRZiqm7bvkKKO7E9F4U+h6lRhiXJi2
9QIDAQAB
-----END PUBLIC KEY-----
""";

    // RFC 9421 Appendix B.1.1 "test-key-rsa" (2048-bit, PKCS#1).
    public const string RsaPrivatePem = """
-----BEGIN RSA PRIVATE KEY-----
MIIEqAIBAAKCAQEAhAKYdtoeoy8zcAcR874L8cnZxKzAGwd7v36APp7Pv6Q2jdsP
BRrwWEBnez6d0UDKDwGbc6nxfEXAy5mbhgajzrw3MOEt8uA5txSKobBpKDeBLOsd
JKFqMGmXCQvEG7YemcxDTRPxAleIAgYYRjTSd/QBwVW9OwNFhekro3RtlinV0a75
jfZgkne/YiktSvLG34lw2zqXBDTC5NHROUqGTlML4PlNZS5Ri2U4aCNx2rUPRcKI
lE0PuKxI4T+HIaFpv8+rdV6eUgOrB2xeI1dSFFn/nnv5OoZJEIB+VmuKn3DCUcCZ
SFlQPSXSfBDiUGhwOw76WuSSsf1D4b/vLoJ10wIDAQABAoIBAG/JZuSWdoVHbi56
vjgCgkjg3lkO1KrO3nrdm6nrgA9P9qaPjxuKoWaKO1cBQlE1pSWp/cKncYgD5WxE
CpAnRUXG2pG4zdkzCYzAh1i+c34L6oZoHsirK6oNcEnHveydfzJL5934egm6p8DW
+m1RQ70yUt4uRc0YSor+q1LGJvGQHReF0WmJBZHrhz5e63Pq7lE0gIwuBqL8SMaA
yRXtK+JGxZpImTq+NHvEWWCu09SCq0r838ceQI55SvzmTkwqtC+8AT2zFviMZkKR
Qo6SPsrqItxZWRty2izawTF0Bf5S2VAx7O+6t3wBsQ1sLptoSgX3QblELY5asI0J
YFz7LJECgYkAsqeUJmqXE3LP8tYoIjMIAKiTm9o6psPlc8CrLI9CH0UbuaA2JCOM
cCNq8SyYbTqgnWlB9ZfcAm/cFpA8tYci9m5vYK8HNxQr+8FS3Qo8N9RJ8d0U5Csw
DzMYfRghAfUGwmlWj5hp1pQzAuhwbOXFtxKHVsMPhz1IBtF9Y8jvgqgYHLbmyiu1
mwJ5AL0pYF0G7x81prlARURwHo0Yf52kEw1dxpx+JXER7hQRWQki5/NsUEtv+8RT
qn2m6qte5DXLyn83b1qRscSdnCCwKtKWUug5q2ZbwVOCJCtmRwmnP131lWRYfj67
B/xJ1ZA6X3GEf4sNReNAtaucPEelgR2nsN0gKQKBiGoqHWbK1qYvBxX2X3kbPDkv
9C+celgZd2PW7aGYLCHq7nPbmfDV0yHcWjOhXZ8jRMjmANVR/eLQ2EfsRLdW69bn
f3ZD7JS1fwGnO3exGmHO3HZG+6AvberKYVYNHahNFEw5TsAcQWDLRpkGybBcxqZo
81YCqlqidwfeO5YtlO7etx1xLyqa2NsCeG9A86UjG+aeNnXEIDk1PDK+EuiThIUa
/2IxKzJKWl1BKr2d4xAfR0ZnEYuRrbeDQYgTImOlfW6/GuYIxKYgEKCFHFqJATAG
IxHrq1PDOiSwXd2GmVVYyEmhZnbcp8CxaEMQoevxAta0ssMK3w6UsDtvUvYvF22m
qQKBiD5GwESzsFPy3Ga0MvZpn3D6EJQLgsnrtUPZx+z2Ep2x0xc5orneB5fGyF1P
WtP+fG5Q6Dpdz3LRfm+KwBCWFKQjg7uTxcjerhBWEYPmEMKYwTJF5PBG9/ddvHLQ
EQeNC8fHGg4UXU8mhHnSBt3EA10qQJfRDs15M38eG2cYwB1PZpDHScDnDA0=
-----END RSA PRIVATE KEY-----
""";

    // RFC 9421 Appendix B.1.1 "test-key-rsa", PKCS#1 public key.
    public const string RsaPublicPkcs1Pem = """
-----BEGIN RSA PUBLIC KEY-----
MIIBCgKCAQEAhAKYdtoeoy8zcAcR874L8cnZxKzAGwd7v36APp7Pv6Q2jdsPBRrw
WEBnez6d0UDKDwGbc6nxfEXAy5mbhgajzrw3MOEt8uA5txSKobBpKDeBLOsdJKFq
MGmXCQvEG7YemcxDTRPxAleIAgYYRjTSd/QBwVW9OwNFhekro3RtlinV0a75jfZg
kne/YiktSvLG34lw2zqXBDTC5NHROUqGTlML4PlNZS5Ri2U4aCNx2rUPRcKIlE0P
uKxI4T+HIaFpv8+rdV6eUgOrB2xeI1dSFFn/nnv5OoZJEIB+VmuKn3DCUcCZSFlQ
PSXSfBDiUGhwOw76WuSSsf1D4b/vLoJ10wIDAQAB
-----END RSA PUBLIC KEY-----
""";

    // RFC 9421 Appendix B.1.2 "test-key-rsa-pss", SubjectPublicKeyInfo.
    public const string RsaPssPublicPem = """
-----BEGIN PUBLIC KEY-----
MIIBIjANBgkqhkiG9w0BAQEFAAOCAQ8AMIIBCgKCAQEAr4tmm3r20Wd/PbqvP1s2
+QEtvpuRaV8Yq40gjUR8y2Rjxa6dpG2GXHbPfvMs8ct+Lh1GH45x28Rw3Ry53mm+
oAXjyQ86OnDkZ5N8lYbggD4O3w6M6pAvLkhk95AndTrifbIFPNU8PPMO7OyrFAHq
gDsznjPFmTOtCEcN2Z1FpWgchwuYLPL+Wokqltd11nqqzi+bJ9cvSKADYdUAAN5W
Utzdpiy6LbTgSxP7ociU4Tn0g5I6aDZJ7A8Lzo0KSyZYoA485mqcO0GVAdVw9lq4
aOT9v6d+nb4bnNkQVklLQ3fVAvJm+xdDOp9LCNCN48V2pnDOkFV6+U9nV5oyc6XI
2wIDAQAB
-----END PUBLIC KEY-----
""";

    // RFC 9421 Appendix B.1.4 "test-key-ed25519".
    public const string Ed25519PublicPem = """
-----BEGIN PUBLIC KEY-----
MCowBQYDK2VwAyEAJrQLj5P/89iXES9+vFgrIy29clF9CC/oPPsw3c5D0bs=
-----END PUBLIC KEY-----
""";

    // RFC 9421 Appendix B.1.4 "test-key-ed25519", PKCS#8.
    public const string Ed25519PrivatePem = """
-----BEGIN PRIVATE KEY-----
MC4CAQAwBQYDK2VwBCIEIJ+DYvh6SEqVTm50DFtMDoQikTmiCqirVv9mWG9qfSnF
-----END PRIVATE KEY-----
""";
}
