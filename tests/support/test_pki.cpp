#include "test_pki.hpp"

#include <cstdio>
#include <memory>
#include <random>
#include <stdexcept>
#include <system_error>

#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>
#include <unistd.h>

namespace chat::test {

namespace {

[[noreturn]] void fail(const std::string& what) {
  char reason[256] = "unknown reason";
  if (const unsigned long code = ERR_get_error()) ERR_error_string_n(code, reason, sizeof reason);
  throw std::runtime_error("test_pki: " + what + ": " + reason);
}

struct key_deleter {
  void operator()(EVP_PKEY* key) const noexcept { EVP_PKEY_free(key); }
};
struct certificate_deleter {
  void operator()(X509* certificate) const noexcept { X509_free(certificate); }
};
using key_ptr = std::unique_ptr<EVP_PKEY, key_deleter>;
using certificate_ptr = std::unique_ptr<X509, certificate_deleter>;

key_ptr new_key() {
  key_ptr key(EVP_EC_gen("P-256"));
  if (!key) fail("EVP_EC_gen");
  return key;
}

void add_extension(X509* certificate, X509* issuer, int nid, const char* value) {
  X509V3_CTX context;
  X509V3_set_ctx_nodb(&context);
  X509V3_set_ctx(&context, issuer, certificate, nullptr, nullptr, 0);
  X509_EXTENSION* extension = X509V3_EXT_conf_nid(nullptr, &context, nid, value);
  if (extension == nullptr || X509_add_ext(certificate, extension, -1) != 1) {
    X509_EXTENSION_free(extension);
    fail("X509_add_ext");
  }
  X509_EXTENSION_free(extension);
}

// A certificate for `key` named `common_name`, valid from an hour ago for a
// day (or until an hour ago), not yet signed.
certificate_ptr new_certificate(EVP_PKEY* key, std::string_view common_name, bool expired) {
  certificate_ptr certificate(X509_new());
  if (!certificate) fail("X509_new");
  X509_set_version(certificate.get(), 2);
  // Distinct serials: a client that saw certificate A must not mistake B for it.
  ASN1_INTEGER_set_int64(X509_get_serialNumber(certificate.get()),
                         static_cast<std::int64_t>(std::random_device{}() & 0x7fffffff));
  X509_gmtime_adj(X509_getm_notBefore(certificate.get()), expired ? -7200 : -3600);
  X509_gmtime_adj(X509_getm_notAfter(certificate.get()), expired ? -3600 : 86'400);
  X509_set_pubkey(certificate.get(), key);
  X509_NAME* name = X509_get_subject_name(certificate.get());
  const std::string cn(common_name);
  X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_UTF8,
                             reinterpret_cast<const unsigned char*>(cn.c_str()), -1, -1, 0);
  return certificate;
}

void sign(X509* certificate, EVP_PKEY* key) {
  if (X509_sign(certificate, key, EVP_sha256()) == 0) fail("X509_sign");
}

}  // namespace

test_pki::test_pki() {
  dir_ = std::filesystem::temp_directory_path() /
         ("chat-pki-" + std::to_string(::getpid()) + "-" + std::to_string(std::random_device{}()));
  std::filesystem::create_directories(dir_);

  key_ptr key = new_key();
  certificate_ptr certificate = new_certificate(key.get(), "chat test CA", false);
  X509_set_issuer_name(certificate.get(), X509_get_subject_name(certificate.get()));
  add_extension(certificate.get(), certificate.get(), NID_basic_constraints, "critical,CA:TRUE");
  add_extension(certificate.get(), certificate.get(), NID_key_usage,
                "critical,keyCertSign,cRLSign");
  add_extension(certificate.get(), certificate.get(), NID_subject_key_identifier, "hash");
  sign(certificate.get(), key.get());
  ca_ = write("ca", certificate.get(), key.get());
  ca_certificate_ = certificate.release();
  ca_key_ = key.release();
}

test_pki::~test_pki() {
  X509_free(ca_certificate_);
  EVP_PKEY_free(ca_key_);
  std::error_code ignored;
  std::filesystem::remove_all(dir_, ignored);
}

key_pair test_pki::issue(std::string_view common_name, const certificate_options& options) {
  key_ptr key = new_key();
  certificate_ptr certificate = new_certificate(key.get(), common_name, options.expired);
  X509_set_issuer_name(certificate.get(), X509_get_subject_name(ca_certificate_));
  add_extension(certificate.get(), ca_certificate_, NID_basic_constraints, "critical,CA:FALSE");
  add_extension(certificate.get(), ca_certificate_, NID_ext_key_usage, "serverAuth");
  add_extension(certificate.get(), ca_certificate_, NID_authority_key_identifier, "keyid");
  add_extension(certificate.get(), ca_certificate_, NID_subject_alt_name,
                ("DNS:" + options.dns_name).c_str());
  sign(certificate.get(), ca_key_);
  return write(common_name, certificate.get(), key.get());
}

key_pair test_pki::self_signed(std::string_view common_name) {
  key_ptr key = new_key();
  certificate_ptr certificate = new_certificate(key.get(), common_name, false);
  X509_set_issuer_name(certificate.get(), X509_get_subject_name(certificate.get()));
  add_extension(certificate.get(), certificate.get(), NID_subject_alt_name, "DNS:localhost");
  sign(certificate.get(), key.get());
  return write(common_name, certificate.get(), key.get());
}

key_pair test_pki::write(std::string_view common_name, X509* certificate, EVP_PKEY* key) {
  // Numbered: the same name issued twice (a renewed certificate) gets new files.
  const std::string stem =
      (dir_ / std::string(common_name)).string() + "-" + std::to_string(issued_++);
  key_pair files{stem + ".crt", stem + ".key"};
  const auto write_pem = [](const std::string& path, auto&& write_one) {
    std::FILE* file = std::fopen(path.c_str(), "w");
    if (file == nullptr) throw std::runtime_error("test_pki: cannot write " + path);
    const bool written = write_one(file) == 1;
    std::fclose(file);
    if (!written) fail("writing " + path);
  };
  write_pem(files.cert_file, [&](std::FILE* file) { return PEM_write_X509(file, certificate); });
  write_pem(files.key_file, [&](std::FILE* file) {
    return PEM_write_PrivateKey(file, key, nullptr, nullptr, 0, nullptr, nullptr);
  });
  return files;
}

}  // namespace chat::test
