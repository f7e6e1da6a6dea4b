//! Any bytes through the frame decoder: a value or an error, never a panic, and never an
//! allocation larger than the frame limit.
#![no_main]
use libfuzzer_sys::fuzz_target;
use vigil::protocol::{self, Request, Response};

fuzz_target!(|data: &[u8]| {
    let _ = protocol::read_message::<Request>(&mut &data[..]);
    let _ = protocol::read_message::<Response>(&mut &data[..]);
    let _ = protocol::decode_stream::<Request>(data);
});
