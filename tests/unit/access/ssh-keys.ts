/** Public SSH keys made with ssh-keygen (the sk- ones assembled by hand), and the fingerprints `ssh-keygen -lf` prints for them. */

/** A valid key of every accepted type. */
export const KEYS = {
  ed25519: { text: 'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIEQbJOmlyzs64YgVQ0HF8K4cBExR9W2xtO56faVlLfzM ed25519@example.com', fingerprint: 'SHA256:7RWHJEcA/uFUjFOyMxlwCty8+glKdgnF+HJD5E1qAB4' },
  ed25519Other: { text: 'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAICNnj/UxSghsFZWAjma/irwb3ekUWqMkPlltTVu1elVu bob@example.com', fingerprint: 'SHA256:DqMxc3OKSIKKjLkmCotOuMoQfj8/xhLy7zH62oYlv3I' },
  rsa: { text: 'ssh-rsa AAAAB3NzaC1yc2EAAAADAQABAAABAQDb/gRBIUc4psoQZxfSDFjeZfx8yEVIXZyJ1JcVd4Ti+ygmKhMXR5yAsQ8crFTISSbQHlPcanavcytGL22o8B5llP5z0iJ865YFJT/LKxAuHElDMFJRBI8DA9sMLH6R7KuAlGETZLRAlF23SY1OQ0TFXHFUmglv2Jv9HuBu3wAyqEMGg1Nx/gUdVeljjXlo3biUfnTc77owUXRJwzybTiqgo+2Jrq1TaRiERc2QCBGbbIooedhzG+GIpTnMs3Bb9sWUjQ4wsHAOo+9v0Hb+g61V7u5F/t+SkqX3C+f+Wn+vDIMfVuNawp/5mczJQQ9A8OzdLAu9oI9WWQL+xgwu1hxb rsa@example.com', fingerprint: 'SHA256:mdGFG44FKgVjbz0uq2epwi8da5lKalpU4e7Vh44VziY' },
  ecdsa256: { text: 'ecdsa-sha2-nistp256 AAAAE2VjZHNhLXNoYTItbmlzdHAyNTYAAAAIbmlzdHAyNTYAAABBBPOdzZS+3gqbzm4+HbCX3g4X3M5e7EZH3RqZkZuUL+H7tGUjzfeVMY8d5Z3dOBXrxOy+QFp5ct0Vjzd5f9RPTVI= ecdsa256@example.com', fingerprint: 'SHA256:9rAScW4teftK15HLPNAHrDmmVW/R11oNsVBJwvt8IqU' },
  ecdsa384: { text: 'ecdsa-sha2-nistp384 AAAAE2VjZHNhLXNoYTItbmlzdHAzODQAAAAIbmlzdHAzODQAAABhBKAT1welEpeavasuipfbQdWhdY4d0BqaTfQW8/1ndLvtCLjC3IP/EJ1+TsMVA6LFYHsSkE4EmCOLEVsB9wmCyr12UhKrvq9Gu2FtyqOIqpOjP04LPU8AONt2JcE78oER6g== ecdsa384@example.com', fingerprint: 'SHA256:Lcja2VVlWSrEAmwUM/dSPez5nRwwjUbV+AZNPcq598w' },
  ecdsa521: { text: 'ecdsa-sha2-nistp521 AAAAE2VjZHNhLXNoYTItbmlzdHA1MjEAAAAIbmlzdHA1MjEAAACFBAEFeGdJBcsG1CnlB1ilgDaW6Kb7kJtedmYU0YRPHGBfvZWTvOuVhvj/uBwKPiyfTdQAobOrIQCVmWwWEO+AxF/WxgBtWvaelYBG+/sXS2U7RR0vNWBBJacBbv3CF81nvDkd4iH+A1mRPZHxLnRb8vkaOKN7xL7uD8A4wI0CLx48zl7rlg== ecdsa521@example.com', fingerprint: 'SHA256:I77oSxFbtjCMGSmMy9CQ9KKDDYjEM3Wfms6e7vLFfjE' },
  skEd25519: { text: 'sk-ssh-ed25519@openssh.com AAAAGnNrLXNzaC1lZDI1NTE5QG9wZW5zc2guY29tAAAAIEQbJOmlyzs64YgVQ0HF8K4cBExR9W2xtO56faVlLfzMAAAABHNzaDo= yubikey', fingerprint: 'SHA256:+0LqXgP+xxBQHcIdW2rQzbDYFv6L4Zjwv2TY1pADM48' },
  skEcdsa: { text: 'sk-ecdsa-sha2-nistp256@openssh.com AAAAInNrLWVjZHNhLXNoYTItbmlzdHAyNTZAb3BlbnNzaC5jb20AAAAIbmlzdHAyNTYAAABBBPOdzZS+3gqbzm4+HbCX3g4X3M5e7EZH3RqZkZuUL+H7tGUjzfeVMY8d5Z3dOBXrxOy+QFp5ct0Vjzd5f9RPTVIAAAAEc3NoOg== yubikey', fingerprint: 'SHA256:+SFC/5R9HnmrgDaaSxzKkQ590pk0dCMdbrm8ygsmeCo' },
} as const;

/** Keys that are well-formed but refused. */
export const REFUSED_KEYS = {
  rsa1024: 'ssh-rsa AAAAB3NzaC1yc2EAAAADAQABAAAAgQDvyCogrJz0l+WkfjkOI6pBuFLBEoE9DJs7ZxY4bEqkI1IPQO97agtps6UVxapqwpte+ordygJgXCsVGs+H1ppGTLjDL0E2GL0VSbS0wxzLsKbS22WF5THAd15L3NBz4230J96F3WWi1Bb9itmbmPLRBa+xvNb4HmjIe5TAgowzyQ== rsa1024@example.com',
  dsa: 'ssh-dss AAAAB3NzaC1kc3MAAACBANX+68gt9l40CuQi3Ee5lTwC4uYH0Hm4z23ULDNfP8Dhytj6yEVynq75N7lnBAkhA463O9gGrFQUaik4ti3XpmoeJuWwHUy7kwcyfxJTidi7gkXvjyiKKGAPJ6zniIIBekpkT9ONUU/kmedsP5iYLEiQljQ9wbl4ZHfQseknZDKDAAAAFQCPfHipIHLP1OfZn8kIihrVcsH1nQAAAIEArrGU7eotKujDPG8dMru89sJ5ksgDvbJcSmGycyRx+yr1NzweKx/hA4pbKoiJFORXbYChe3riFkfvfeDUpr4TgYhLAN/5WC4ZHfKcLGr8zZfIOOIq3j7TS2YaXE7AMg+02Vs02+hhwikitotCTRHYBEEhi0gmFXqe5s9p4bVqXXIAAACBAKVlyefD/Kmv+9TrkibCjZPugjp7oX0ssImpEfeW1fE5XJSbnlLkBHnvf46lZKo/nrz2THzTwBmjSKzll9JLN3yFNwKn/tzYn+MDu69/GtoAHlf8DCXwdetSwzvrNJY4KRwHLpBctQjeEt09imKGgnqpXSQ3Z22HxiupWimNAyvp dsa@example.com',
} as const;

/** The shape of an OpenSSH private key (not a usable key: the body is cut short). */
export const PRIVATE_KEY = '-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXktdjEAAAAABG5vbmUAAAAEbm9uZQAAAAAAAAABAAAAMwAAAAtzc2gtZW\n-----END OPENSSH PRIVATE KEY-----\n';
