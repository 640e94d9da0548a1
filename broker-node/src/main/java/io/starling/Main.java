package io.starling;
public final class Main { public static void main(String[] a) {} }
