// FPGA decoder status block: a Node-API addon (node-addon-api) that maps the block and copies out
// one consistent snapshot per card under the block's seqlock, and writes card records under the
// same seqlock (for the simulator and the torn-read test). Layout: native/README.md; the
// TypeScript constants it mirrors: tools/fpga/layout.ts (checked against `layout` at load).
//
// Seqlock, per card record (single writer per block):
//   writer: seq = s+1 (odd), release fence, record words (relaxed atomic stores), seq = s+2 (release)
//   reader: s1 = seq (acquire); if odd retry; copy words (relaxed atomic loads); acquire fence;
//           s2 = seq (relaxed); if s1 != s2 retry; CRC-32 over the copy must match, else retry.
// Lock-free 8-byte atomics are address-free, so this holds across processes sharing the mapping.

#include <napi.h>

#include <fcntl.h>
#include <sched.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <memory>
#include <string>
#include <vector>

static_assert(__BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__, "the status block is little-endian; this addon reads it in place");
static_assert(__atomic_always_lock_free(sizeof(uint64_t), nullptr), "the seqlock needs lock-free 8-byte atomics");

namespace {

// ---------------------------------------------------------------------------------------------
// Layout version 1 (mirror of tools/fpga/layout.ts)
// ---------------------------------------------------------------------------------------------
constexpr uint32_t kMagic = 0x50465257;  // "WRFP"
constexpr uint32_t kVersion = 1;
constexpr size_t kHeaderSize = 64;
constexpr size_t kCardFixedSize = 128;
constexpr size_t kChannelRecordSize = 64;
constexpr size_t kChecksumFrom = 12;
constexpr uint32_t kMaxCards = 64;
constexpr uint32_t kMaxChannelSlots = 1024;
constexpr size_t kChannelStride = 8;  // numbers per channel handed to JavaScript
constexpr size_t kVersionStringSize = 32;

struct Header {
  uint32_t magic;
  uint16_t version;
  uint16_t header_size;
  uint32_t card_record_size;
  uint32_t channel_record_size;
  uint32_t card_count;
  uint32_t channel_slots;
  uint8_t reserved[40];
};
static_assert(sizeof(Header) == kHeaderSize, "header size");
static_assert(offsetof(Header, magic) == 0 && offsetof(Header, version) == 4 && offsetof(Header, header_size) == 6, "header offsets");
static_assert(offsetof(Header, card_record_size) == 8 && offsetof(Header, channel_record_size) == 12, "header offsets");
static_assert(offsetof(Header, card_count) == 16 && offsetof(Header, channel_slots) == 20, "header offsets");

struct CardFixed {
  uint64_t seq;
  uint32_t checksum;
  uint32_t card;
  uint8_t mdgw_tcp;
  uint8_t mdgw_login;
  uint8_t multicast;
  uint8_t active_path;
  uint32_t reject_code;
  uint16_t toe_sessions;
  uint16_t toe_limit;
  uint32_t channel_count;
  int64_t mdgw_since_ns;
  int64_t updated_at_ns;
  char firmware[kVersionStringSize];
  char bitstream[kVersionStringSize];
  uint8_t reserved[16];
};
static_assert(sizeof(CardFixed) == kCardFixedSize, "card fixed part size");
static_assert(offsetof(CardFixed, seq) == 0 && offsetof(CardFixed, checksum) == 8 && offsetof(CardFixed, card) == kChecksumFrom, "card offsets");
static_assert(offsetof(CardFixed, mdgw_tcp) == 16 && offsetof(CardFixed, mdgw_login) == 17, "card offsets");
static_assert(offsetof(CardFixed, multicast) == 18 && offsetof(CardFixed, active_path) == 19, "card offsets");
static_assert(offsetof(CardFixed, reject_code) == 20 && offsetof(CardFixed, toe_sessions) == 24 && offsetof(CardFixed, toe_limit) == 26, "card offsets");
static_assert(offsetof(CardFixed, channel_count) == 28 && offsetof(CardFixed, mdgw_since_ns) == 32 && offsetof(CardFixed, updated_at_ns) == 40, "card offsets");
static_assert(offsetof(CardFixed, firmware) == 48 && offsetof(CardFixed, bitstream) == 80, "card offsets");

struct Channel {
  uint32_t channel_no;
  uint32_t reserved0;
  uint64_t packets_in;
  uint64_t packets_out;
  uint64_t messages_decoded;
  uint64_t checksum_errors;
  int64_t last_orig_time_ns;
  uint32_t latency_p50_ns;
  uint32_t latency_p99_ns;
  uint8_t reserved[8];
};
static_assert(sizeof(Channel) == kChannelRecordSize, "channel record size");
static_assert(offsetof(Channel, packets_in) == 8 && offsetof(Channel, packets_out) == 16 && offsetof(Channel, messages_decoded) == 24, "channel offsets");
static_assert(offsetof(Channel, checksum_errors) == 32 && offsetof(Channel, last_orig_time_ns) == 40, "channel offsets");
static_assert(offsetof(Channel, latency_p50_ns) == 48 && offsetof(Channel, latency_p99_ns) == 52, "channel offsets");

size_t CardRecordSize(uint32_t slots) { return kCardFixedSize + size_t(slots) * kChannelRecordSize; }

// ---------------------------------------------------------------------------------------------
// CRC-32 (IEEE, reflected, zlib's), slice-by-8
// ---------------------------------------------------------------------------------------------
struct CrcTables {
  uint32_t t[8][256];
  CrcTables() {
    for (uint32_t n = 0; n < 256; n++) {
      uint32_t c = n;
      for (int k = 0; k < 8; k++) c = (c & 1) ? 0xedb88320u ^ (c >> 1) : c >> 1;
      t[0][n] = c;
    }
    for (uint32_t n = 0; n < 256; n++)
      for (int k = 1; k < 8; k++) t[k][n] = (t[k - 1][n] >> 8) ^ t[0][t[k - 1][n] & 0xff];
  }
};
const CrcTables kCrc;

uint32_t Crc32(const uint8_t* p, size_t n) {
  uint32_t c = 0xffffffffu;
  while (n >= 8) {
    uint32_t lo, hi;
    std::memcpy(&lo, p, 4);
    std::memcpy(&hi, p + 4, 4);
    lo ^= c;
    c = kCrc.t[7][lo & 0xff] ^ kCrc.t[6][(lo >> 8) & 0xff] ^ kCrc.t[5][(lo >> 16) & 0xff] ^ kCrc.t[4][lo >> 24] ^
        kCrc.t[3][hi & 0xff] ^ kCrc.t[2][(hi >> 8) & 0xff] ^ kCrc.t[1][(hi >> 16) & 0xff] ^ kCrc.t[0][hi >> 24];
    p += 8;
    n -= 8;
  }
  while (n--) c = kCrc.t[0][(c ^ *p++) & 0xff] ^ (c >> 8);
  return c ^ 0xffffffffu;
}

// ---------------------------------------------------------------------------------------------
// Errors: a code (fpga_block_*) the TypeScript wrapper turns into a WarroomError naming the file
// ---------------------------------------------------------------------------------------------
struct BlockError {
  std::string code;
  std::string message;
};

[[noreturn]] void ThrowJs(Napi::Env env, const BlockError& e) {
  Napi::Error err = Napi::Error::New(env, e.message);
  err.Set("code", Napi::String::New(env, e.code));
  throw err;
}

std::string Hex32(uint32_t v) {
  char b[16];
  std::snprintf(b, sizeof b, "0x%08x", v);
  return b;
}

// Messages match tools/fpga/ts-reader.ts word for word: both readers give the same answer.
void ValidateHeader(const Header& h, uint64_t file_size) {
  if (h.magic != kMagic)
    throw BlockError{"fpga_block_magic", "does not start with the status block's magic \"WRFP\" (found " + Hex32(h.magic) + "): it is not an FPGA status block"};
  if (h.version != kVersion)
    throw BlockError{"fpga_block_version", "has layout version " + std::to_string(h.version) + "; this Warroom reads version " + std::to_string(kVersion)};
  if (h.header_size != kHeaderSize || h.channel_record_size != kChannelRecordSize || h.card_count > kMaxCards ||
      h.channel_slots > kMaxChannelSlots || h.card_record_size != CardRecordSize(h.channel_slots))
    throw BlockError{"fpga_block_geometry",
                     "has an inconsistent header (header " + std::to_string(h.header_size) + " B, card record " + std::to_string(h.card_record_size) +
                         " B, channel record " + std::to_string(h.channel_record_size) + " B, " + std::to_string(h.card_count) + " cards, " +
                         std::to_string(h.channel_slots) + " channel slots)"};
  const uint64_t need = kHeaderSize + uint64_t(h.card_count) * h.card_record_size;
  if (file_size < need)
    throw BlockError{"fpga_block_short", "is " + std::to_string(file_size) + " bytes; its header promises " + std::to_string(need) + " (" +
                                             std::to_string(h.card_count) + " cards of " + std::to_string(h.card_record_size) + " bytes)"};
}

// One mapping of a block file; remapped when the file at the path was replaced (rename) or resized.
class Mapping {
 public:
  Mapping(std::string path, bool writable) : path_(std::move(path)), writable_(writable) { Open(); }
  ~Mapping() { Close(); }
  Mapping(const Mapping&) = delete;
  Mapping& operator=(const Mapping&) = delete;

  void Close() {
    if (base_ && base_ != MAP_FAILED) munmap(base_, size_);
    base_ = nullptr;
    size_ = 0;
    if (fd_ >= 0) ::close(fd_);
    fd_ = -1;
  }

  // Reopen if the path now names another file (a writer recreated the block) or its size changed.
  void Refresh() {
    struct stat st;
    if (::stat(path_.c_str(), &st) != 0) Fail("fpga_block_unreadable", "cannot be opened");
    if (fd_ >= 0 && st.st_ino == ino_ && st.st_dev == dev_ && uint64_t(st.st_size) == size_) return;
    Close();
    Open();
  }

  bool open() const { return fd_ >= 0; }
  const Header& header() const { return header_; }
  uint8_t* card(uint32_t i) const { return base_ + kHeaderSize + size_t(i) * header_.card_record_size; }

 private:
  [[noreturn]] void Fail(const char* code, const std::string& what) {
    int e = errno;
    Close();
    throw BlockError{code, what + ": " + std::strerror(e)};
  }

  void Open() {
    fd_ = ::open(path_.c_str(), (writable_ ? O_RDWR : O_RDONLY) | O_CLOEXEC);
    if (fd_ < 0) Fail("fpga_block_unreadable", "cannot be opened");
    struct stat st;
    if (fstat(fd_, &st) != 0) Fail("fpga_block_unreadable", "cannot be read");
    ino_ = st.st_ino;
    dev_ = st.st_dev;
    if (uint64_t(st.st_size) < kHeaderSize) {
      uint64_t n = uint64_t(st.st_size);
      Close();
      throw BlockError{"fpga_block_short", "is " + std::to_string(n) + " bytes, shorter than the " + std::to_string(kHeaderSize) + "-byte header"};
    }
    size_ = uint64_t(st.st_size);
    void* p = mmap(nullptr, size_, writable_ ? PROT_READ | PROT_WRITE : PROT_READ, MAP_SHARED, fd_, 0);
    if (p == MAP_FAILED) Fail("fpga_block_unreadable", "cannot be mapped");
    base_ = static_cast<uint8_t*>(p);
    std::memcpy(&header_, base_, sizeof header_);  // the header is written once, before any record
    try {
      ValidateHeader(header_, size_);
    } catch (...) {
      Close();
      throw;
    }
  }

  std::string path_;
  bool writable_;
  int fd_ = -1;
  uint8_t* base_ = nullptr;
  uint64_t size_ = 0;
  ino_t ino_ = 0;
  dev_t dev_ = 0;
  Header header_{};
};

inline void CpuRelax() {
#if defined(__x86_64__) || defined(__i386__)
  __builtin_ia32_pause();
#elif defined(__aarch64__)
  asm volatile("yield" ::: "memory");
#endif
}

// Between tries: spin, then yield, then sleep 100 µs, so that a writer preempted mid-update (odd
// for a whole time slice on a busy host) gets ~0.1 s before 1000 tries give up.
inline void Backoff(unsigned attempt) {
  if (attempt < 16) {
    CpuRelax();
  } else if (attempt < 64) {
    sched_yield();
  } else {
    struct timespec ts = {0, 100 * 1000};
    nanosleep(&ts, nullptr);
  }
}

// One attempt at a consistent copy of a record of `words` 8-byte words into `out`.
enum class Copy { kOk, kOdd, kChanged };
Copy CopyRecord(const uint8_t* rec, size_t words, uint64_t* out) {
  const uint64_t* src = reinterpret_cast<const uint64_t*>(rec);
  const uint64_t s1 = __atomic_load_n(src, __ATOMIC_ACQUIRE);
  if (s1 & 1) return Copy::kOdd;
  for (size_t i = 1; i < words; i++) out[i] = __atomic_load_n(src + i, __ATOMIC_RELAXED);
  __atomic_thread_fence(__ATOMIC_ACQUIRE);
  const uint64_t s2 = __atomic_load_n(src, __ATOMIC_RELAXED);
  if (s1 != s2) return Copy::kChanged;
  out[0] = s1;
  return Copy::kOk;
}

double NsToMs(int64_t ns) { return ns == 0 ? NAN : double(ns / 1000000); }

std::string VersionString(const char* p) { return std::string(p, strnlen(p, kVersionStringSize)); }

// ---------------------------------------------------------------------------------------------
// Reader
// ---------------------------------------------------------------------------------------------
class Reader : public Napi::ObjectWrap<Reader> {
 public:
  static Napi::Function Define(Napi::Env env) {
    return DefineClass(env, "FpgaStatusReader", {InstanceMethod<&Reader::Read>("read"), InstanceMethod<&Reader::CloseJs>("close")});
  }

  explicit Reader(const Napi::CallbackInfo& info) : Napi::ObjectWrap<Reader>(info) {
    Napi::Env env = info.Env();
    if (!info[0].IsString()) throw Napi::TypeError::New(env, "openReader(path): path must be a string");
    try {
      map_ = std::make_unique<Mapping>(info[0].As<Napi::String>().Utf8Value(), false);
    } catch (const BlockError& e) {
      ThrowJs(env, e);
    }
  }

 private:
  Napi::Value Read(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    if (!map_) throw Napi::Error::New(env, "read() after close()");
    const uint32_t max_tries = info[0].IsNumber() ? std::max<uint32_t>(1, info[0].As<Napi::Number>().Uint32Value()) : 1000;
    try {
      map_->Refresh();
    } catch (const BlockError& e) {
      ThrowJs(env, e);
    }
    const Header& h = map_->header();
    const size_t size = h.card_record_size;
    const size_t words = size / 8;
    if (scratch_.size() < words) scratch_.resize(words);
    uint8_t* copy = reinterpret_cast<uint8_t*>(scratch_.data());

    uint32_t retries = 0;
    Napi::Array cards = Napi::Array::New(env, h.card_count);
    for (uint32_t i = 0; i < h.card_count; i++) {
      const uint8_t* rec = map_->card(i);
      bool ok = false;
      bool last_was_checksum = false;
      for (uint32_t attempt = 0; attempt < max_tries; attempt++) {
        const Copy c = CopyRecord(rec, words, scratch_.data());
        if (c == Copy::kOk) {
          uint32_t stored;
          std::memcpy(&stored, copy + offsetof(CardFixed, checksum), 4);
          if (Crc32(copy + kChecksumFrom, size - kChecksumFrom) == stored) {
            ok = true;
            break;
          }
          last_was_checksum = true;
        } else {
          last_was_checksum = false;
        }
        retries++;
        Backoff(attempt);
      }
      if (!ok) {
        if (last_was_checksum)
          ThrowJs(env, BlockError{"fpga_block_checksum", "card " + std::to_string(i) + ": the record's checksum does not match its contents after " +
                                                             std::to_string(max_tries) + " tries (the record is corrupt, or the writer does not follow the seqlock)"});
        ThrowJs(env, BlockError{"fpga_block_unstable", "card " + std::to_string(i) + ": writer never stable after " + std::to_string(max_tries) +
                                                           " tries (its sequence stayed odd or kept changing)"});
      }
      cards[i] = CardObject(env, copy, h.channel_slots);
    }
    Napi::Object out = Napi::Object::New(env);
    out.Set("version", Napi::Number::New(env, h.version));
    out.Set("cards", cards);
    out.Set("retries", Napi::Number::New(env, retries));
    return out;
  }

  static Napi::Object CardObject(Napi::Env env, const uint8_t* rec, uint32_t slots) {
    CardFixed f;
    std::memcpy(&f, rec, sizeof f);
    const uint32_t n = std::min(f.channel_count, slots);
    Napi::Float64Array ch = Napi::Float64Array::New(env, size_t(n) * kChannelStride);
    double* d = ch.Data();
    for (uint32_t j = 0; j < n; j++) {
      Channel c;
      std::memcpy(&c, rec + kCardFixedSize + size_t(j) * kChannelRecordSize, sizeof c);
      double* o = d + size_t(j) * kChannelStride;
      o[0] = c.channel_no;
      o[1] = double(c.packets_in);
      o[2] = double(c.packets_out);
      o[3] = double(c.messages_decoded);
      o[4] = double(c.checksum_errors);
      o[5] = NsToMs(c.last_orig_time_ns);
      o[6] = c.latency_p50_ns;
      o[7] = c.latency_p99_ns;
    }
    Napi::Object o = Napi::Object::New(env);
    o.Set("card", f.card);
    o.Set("tcp", f.mdgw_tcp);
    o.Set("login", f.mdgw_login);
    o.Set("multicast", f.multicast);
    o.Set("activePath", f.active_path);
    o.Set("rejectCode", f.reject_code);
    o.Set("toeSessions", f.toe_sessions);
    o.Set("toeLimit", f.toe_limit);
    o.Set("sinceMs", NsToMs(f.mdgw_since_ns));
    o.Set("updatedAtMs", NsToMs(f.updated_at_ns));
    o.Set("firmware", VersionString(f.firmware));
    o.Set("bitstream", VersionString(f.bitstream));
    o.Set("channels", ch);
    return o;
  }

  Napi::Value CloseJs(const Napi::CallbackInfo& info) {
    map_.reset();
    return info.Env().Undefined();
  }

  std::unique_ptr<Mapping> map_;
  std::vector<uint64_t> scratch_;
};

// ---------------------------------------------------------------------------------------------
// Writer (one writer per block)
// ---------------------------------------------------------------------------------------------
class Writer : public Napi::ObjectWrap<Writer> {
 public:
  static Napi::Function Define(Napi::Env env) {
    return DefineClass(env, "FpgaStatusWriter",
                       {InstanceMethod<&Writer::WriteRecord>("writeRecord"), InstanceMethod<&Writer::CloseJs>("close"),
                        InstanceAccessor<&Writer::CardCount>("cardCount"), InstanceAccessor<&Writer::ChannelSlots>("channelSlots")});
  }

  explicit Writer(const Napi::CallbackInfo& info) : Napi::ObjectWrap<Writer>(info) {
    Napi::Env env = info.Env();
    if (!info[0].IsString()) throw Napi::TypeError::New(env, "openWriter(path): path must be a string");
    try {
      map_ = std::make_unique<Mapping>(info[0].As<Napi::String>().Utf8Value(), true);
    } catch (const BlockError& e) {
      ThrowJs(env, e);
    }
    scratch_.resize(map_->header().card_record_size / 8);
  }

 private:
  Napi::Value CardCount(const Napi::CallbackInfo& info) { return Napi::Number::New(info.Env(), map_ ? map_->header().card_count : 0); }
  Napi::Value ChannelSlots(const Napi::CallbackInfo& info) { return Napi::Number::New(info.Env(), map_ ? map_->header().channel_slots : 0); }

  // writeRecord(index, record): record is the whole card record (cardRecordSize bytes) as
  // encoded by tools/fpga/layout.ts; its seq and checksum bytes are ignored and set here.
  Napi::Value WriteRecord(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    if (!map_) throw Napi::Error::New(env, "writeRecord() after close()");
    const Header& h = map_->header();
    if (!info[0].IsNumber() || !info[1].IsTypedArray()) throw Napi::TypeError::New(env, "writeRecord(index, record: Uint8Array)");
    const uint32_t index = info[0].As<Napi::Number>().Uint32Value();
    if (index >= h.card_count) throw Napi::RangeError::New(env, "card " + std::to_string(index) + " is not in the block (" + std::to_string(h.card_count) + " cards)");
    Napi::Uint8Array rec = info[1].As<Napi::Uint8Array>();
    if (rec.ByteLength() != h.card_record_size)
      throw Napi::RangeError::New(env, "record is " + std::to_string(rec.ByteLength()) + " bytes; the block's card records are " + std::to_string(h.card_record_size));

    uint8_t* body = reinterpret_cast<uint8_t*>(scratch_.data());
    std::memcpy(body, rec.Data(), h.card_record_size);
    const uint32_t crc = Crc32(body + kChecksumFrom, h.card_record_size - kChecksumFrom);
    std::memcpy(body + offsetof(CardFixed, checksum), &crc, 4);

    uint64_t* dst = reinterpret_cast<uint64_t*>(map_->card(index));
    const size_t words = h.card_record_size / 8;
    const uint64_t s = __atomic_load_n(dst, __ATOMIC_RELAXED);
    const uint64_t odd = (s & 1) ? s + 2 : s + 1;  // an odd seq left by a writer that died mid-update
    __atomic_store_n(dst, odd, __ATOMIC_RELAXED);
    __atomic_thread_fence(__ATOMIC_RELEASE);  // the odd seq is visible before any record word
    for (size_t i = 1; i < words; i++) __atomic_store_n(dst + i, scratch_[i], __ATOMIC_RELAXED);
    __atomic_store_n(dst, odd + 1, __ATOMIC_RELEASE);  // every record word is visible before the even seq
    return Napi::Number::New(env, double(odd + 1));
  }

  Napi::Value CloseJs(const Napi::CallbackInfo& info) {
    map_.reset();
    return info.Env().Undefined();
  }

  std::unique_ptr<Mapping> map_;
  std::vector<uint64_t> scratch_;
};

Napi::Object Init(Napi::Env env, Napi::Object exports) {
  Napi::Function reader = Reader::Define(env);
  Napi::Function writer = Writer::Define(env);
  // Keep the constructors alive for the factories below.
  auto* refs = new std::vector<Napi::FunctionReference>();
  refs->push_back(Napi::Persistent(reader));
  refs->push_back(Napi::Persistent(writer));
  env.SetInstanceData(refs);

  exports.Set("openReader", Napi::Function::New(env, [](const Napi::CallbackInfo& info) -> Napi::Value {
                auto* r = info.Env().GetInstanceData<std::vector<Napi::FunctionReference>>();
                return (*r)[0].New({info[0]});
              }));
  exports.Set("openWriter", Napi::Function::New(env, [](const Napi::CallbackInfo& info) -> Napi::Value {
                auto* r = info.Env().GetInstanceData<std::vector<Napi::FunctionReference>>();
                return (*r)[1].New({info[0]});
              }));

  Napi::Object layout = Napi::Object::New(env);
  layout.Set("magic", kMagic);
  layout.Set("version", kVersion);
  layout.Set("headerSize", double(kHeaderSize));
  layout.Set("cardFixedSize", double(kCardFixedSize));
  layout.Set("channelRecordSize", double(kChannelRecordSize));
  layout.Set("checksumFrom", double(kChecksumFrom));
  layout.Set("channelStride", double(kChannelStride));
  layout.Set("maxCards", kMaxCards);
  layout.Set("maxChannelSlots", kMaxChannelSlots);
  exports.Set("layout", layout);
  return exports;
}

}  // namespace

NODE_API_MODULE(warroom_fpga, Init)
