use super::*;

#[test]
fn varints_round_trip_at_every_length() {
    for v in [0u64, 63, 64, 16_383, 16_384, (1 << 30) - 1, 1 << 30, (1 << 62) - 1] {
        let mut out = Vec::new();
        put_varint(&mut out, v);
        assert_eq!(varint_len(out[0]), out.len());
        assert_eq!(get_varint(&out), Some((v, out.len())));
        assert_eq!(get_varint(&out[..out.len() - 1]), None, "one byte short");
    }
}

#[test]
fn field_sections_round_trip() {
    let fields = [
        (":method", "CONNECT"),
        (":scheme", "https"),
        (":authority", "127.0.0.1:4433"),
        (":path", "/fastpubsub?x=1"),
        (":protocol", "webtransport"),
        ("origin", "http://a.test"),
    ];
    let got = decode_fields(&encode_fields(&fields)).unwrap();
    let want: Vec<(String, String)> = fields.iter().map(|(n, v)| (n.to_string(), v.to_string())).collect();
    assert_eq!(got, want);
    assert_eq!(encode_fields(&[(":status", "200")]), vec![0, 0, 0xd9], "indexed static :status 200");
    // A literal name in capitals (one SDK sends `Authorization`) decodes lower-cased.
    let got = decode_fields(&encode_fields(&[("Authorization", "Bearer AT_x_y")])).unwrap();
    assert_eq!(got, vec![("authorization".to_string(), "Bearer AT_x_y".to_string())]);
}

#[test]
fn huffman_literals_decode() {
    // RFC 7541 C.4.1: "www.example.com", Huffman-coded, as a literal with name reference to :authority.
    let mut b = vec![0, 0, 0x50, 0x80 | 12];
    b.extend_from_slice(&[0xf1, 0xe3, 0xc2, 0xe5, 0xf2, 0x3a, 0x6b, 0xa0, 0xab, 0x90, 0xf4, 0xff]);
    assert_eq!(decode_fields(&b).unwrap(), vec![(":authority".to_string(), "www.example.com".to_string())]);
}

#[test]
fn dynamic_table_references_are_refused() {
    assert_eq!(decode_fields(&[1, 0]), Err(WireError::DynamicTable));
    assert_eq!(decode_fields(&[0, 0, 0x80]), Err(WireError::DynamicTable));
    assert_eq!(decode_fields(&[0, 0, 0x50]), Err(WireError::Truncated));
}

#[test]
fn close_capsule_is_found_in_data_payloads() {
    let framed = close_capsule(4011, "auth timeout");
    let (kind, a) = get_varint(&framed).unwrap();
    let (len, b) = get_varint(&framed[a..]).unwrap();
    assert_eq!((kind, len as usize), (FRAME_DATA, framed.len() - a - b));
    assert_eq!(find_close(&framed[a + b..]), Some((4011, "auth timeout".to_string())));
    assert_eq!(find_close(&framed[a + b..framed.len() - 1]), None, "incomplete capsule");
}

#[test]
fn webtransport_codes_map_into_http3_and_back() {
    assert_eq!(wt_to_h3(0), 0x52e4_a40f_a8db);
    for code in [0u32, 1, 0x1d, 0x1e, 0x1f, 4000, 65_535, u32::MAX] {
        assert_eq!(h3_to_wt(wt_to_h3(code)), Some(code), "code {code}");
    }
    assert_eq!(h3_to_wt(0x10c), None);
}
