#pragma once

#include <filesystem>
#include <string>
#include <string_view>

struct evp_pkey_st;
struct x509_st;

namespace chat::test {

// PEM files of a certificate chain and its private key.
struct key_pair {
  std::string cert_file;
  std::string key_file;
};

struct certificate_options {
  // The DNS name the certificate is valid for (subjectAltName).
  std::string dns_name = "localhost";
  // Valid until an hour ago: a server warns about it, a client refuses it.
  bool expired = false;
};

// A throwaway certificate authority, made when the test starts, with its
// files in a directory removed when it ends. Keys are P-256: quick to make.
class test_pki {
public:
  test_pki();
  ~test_pki();
  test_pki(const test_pki&) = delete;
  test_pki& operator=(const test_pki&) = delete;

  // The CA's certificate, for a client to trust.
  const std::string& ca_file() const noexcept { return ca_.cert_file; }
  const std::filesystem::path& dir() const noexcept { return dir_; }

  // A server certificate signed by this CA whose subject CN is `common_name`
  // (distinct names tell certificates apart), and its key.
  key_pair issue(std::string_view common_name, const certificate_options& options = {});

  // A certificate that signs itself, which no client trusts.
  key_pair self_signed(std::string_view common_name);

private:
  key_pair write(std::string_view common_name, x509_st* certificate, evp_pkey_st* key);

  std::filesystem::path dir_;
  x509_st* ca_certificate_ = nullptr;
  evp_pkey_st* ca_key_ = nullptr;
  key_pair ca_;
  int issued_ = 0;
};

}  // namespace chat::test
